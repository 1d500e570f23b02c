/**
 * Streamable HTTP for tests: a built server spawned over HTTP on a free loopback port (for what needs
 * a real process: exit codes, signals, a reverse proxy), and the JSON-RPC request and answer shapes
 * raw HTTP tests send and read.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { childEnv } from './index.ts';

export interface HttpChild {
  /** The MCP endpoint, `http://127.0.0.1:<port>/mcp`. */
  url: string;
  /** The same origin without the path, for /healthz and /readyz. */
  origin: string;
  child: ChildProcess;
  /** Everything the child wrote (stderr, then stdout). */
  stderr(): string;
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

/** Spawns `bin --transport http --port 0 ...args`; resolves once it prints its URL. */
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
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`server did not start: ${err.slice(-2000)}`));
    }, 10_000);
    child.stderr?.on('data', (c: Buffer) => {
      err += c.toString();
      const match = /listening on (http:\/\/\S+\/mcp)/.exec(err);
      if (match) {
        clearTimeout(timer);
        resolve({
          url: match[1]!,
          origin: new URL(match[1]!).origin,
          child,
          stderr: () => err + out,
          stop: (signal = 'SIGTERM') => {
            if (child.exitCode === null && child.signalCode === null) child.kill(signal);
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
