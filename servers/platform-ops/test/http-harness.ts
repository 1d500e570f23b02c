/**
 * The built binary over HTTP, for the end-to-end tests that need a real process (exit codes,
 * signals): what the test kit's `spawnHttp` does not cover. In-process HTTP tests of core use
 * packages/core/src/testing/fixture/http.ts.
 */
import { spawn } from 'node:child_process';
import { childEnv } from '@gatehouse/core/testing';

export const PUBLIC_URL = 'https://ops.gatehouse.test/mcp';

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
