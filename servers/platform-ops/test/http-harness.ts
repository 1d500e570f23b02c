/**
 * The built binary over HTTP, for the end-to-end tests that need a real process (exit codes,
 * signals, the reverse proxy). In-process HTTP tests of core use packages/core/src/testing/fixture/http.ts.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { childEnv } from '@gatehouse/core/testing';

export const PUBLIC_URL = 'https://ops.gatehouse.test/mcp';

export interface HttpChild {
  url: string;
  child: ChildProcess;
  stderr(): string;
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

/** Spawns the built server over HTTP on a free loopback port; resolves once it prints its URL. */
export function spawnHttp(bin: string, env: Record<string, string>, args: string[] = []): Promise<HttpChild> {
  const child = spawn(process.execPath, [bin, '--transport', 'http', '--port', '0', ...args], {
    env: childEnv(env),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let err = '';
  let out = '';
  child.stdout?.on('data', (c: Buffer) => {
    out += c.toString();
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`server did not start: ${err.slice(-2000)}`)), 10_000);
    child.stderr?.on('data', (c: Buffer) => {
      err += c.toString();
      const match = /listening on (http:\/\/\S+\/mcp)/.exec(err);
      if (match) {
        clearTimeout(timer);
        resolve({
          url: match[1]!,
          child,
          stderr: () => err + out,
          stop: (signal = 'SIGTERM') => {
            if (child.exitCode === null) child.kill(signal);
            setTimeout(() => child.kill('SIGKILL'), 15_000).unref();
            return exited;
          },
        });
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`server exited ${code}: ${err.slice(-2000)}`));
    });
  });
}

/** Runs the binary to completion (for start-up refusals). */
export function runToExit(bin: string, env: Record<string, string>, args: string[]) {
  return new Promise<{ code: number | null; stderr: string; stdout: string }>((resolve) => {
    const child = spawn(process.execPath, [bin, ...args], {
      env: childEnv(env),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    let stdout = '';
    child.stderr.on('data', (c: Buffer) => {
      stderr += c.toString();
    });
    child.stdout.on('data', (c: Buffer) => {
      stdout += c.toString();
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stderr, stdout });
    });
  });
}

export const MCP_HEADERS = {
  'content-type': 'application/json',
  accept: 'application/json, text/event-stream',
};

export function legacyCall(id: number, name: string, args: Record<string, unknown>) {
  return JSON.stringify({ jsonrpc: '2.0', id, method: 'tools/call', params: { name, arguments: args } });
}

/** The JSON-RPC message of a response that is either JSON or a one-message SSE stream. */
export async function rpcBody(response: Response): Promise<Record<string, unknown>> {
  const text = await response.text();
  if ((response.headers.get('content-type') ?? '').includes('text/event-stream')) {
    const data = text
      .split('\n')
      .filter((l) => l.startsWith('data: '))
      .map((l) => l.slice(6))
      .filter((l) => l.trim().startsWith('{'))
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    return data.find((m) => 'result' in m || 'error' in m) ?? {};
  }
  return JSON.parse(text);
}
