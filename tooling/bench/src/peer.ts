import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';

/**
 * A minimal JSON-RPC-over-stdio client: no SDK on the client side, so the
 * measured cost is the server's (plus one JSON.parse per answer, equal for
 * every target).
 */
export class StdioPeer {
  readonly child: ChildProcessWithoutNullStreams;
  readonly spawnedAt = performance.now();
  private nextId = 1;
  private readonly pending = new Map<number, { resolve: (m: Record<string, unknown>) => void }>();
  private stderrText = '';
  private exited = false;

  constructor(bin: string, env: Record<string, string>, args: string[] = []) {
    this.child = spawn(process.execPath, [bin, ...args], {
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', ...env },
      stdio: 'pipe',
    });
    this.child.stderr.on('data', (chunk: Buffer) => {
      if (this.stderrText.length < 200_000) this.stderrText += chunk.toString('utf8');
    });
    this.child.once('exit', () => {
      this.exited = true;
      for (const { resolve } of this.pending.values())
        resolve({ error: { code: -1, message: 'server exited' } });
      this.pending.clear();
    });
    this.child.stdin.on('error', () => undefined);
    createInterface({ input: this.child.stdout }).on('line', (line) => {
      let message: Record<string, unknown>;
      try {
        message = JSON.parse(line);
      } catch {
        return;
      }
      const id = message.id;
      if (typeof id !== 'number') return;
      const waiter = this.pending.get(id);
      if (!waiter) return;
      this.pending.delete(id);
      waiter.resolve(message);
    });
  }

  get pid(): number {
    return this.child.pid ?? -1;
  }

  stderr(): string {
    return this.stderrText;
  }

  /** Sends a request and resolves with the whole response message (result or error). */
  request(method: string, params?: unknown, timeoutMs = 30_000): Promise<Record<string, unknown>> {
    if (this.exited) return Promise.resolve({ error: { code: -1, message: 'server exited' } });
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(
          new Error(`${method} timed out after ${timeoutMs} ms; stderr: ${this.stderrText.slice(-500)}`),
        );
      }, timeoutMs);
      this.pending.set(id, {
        resolve: (m) => {
          clearTimeout(timer);
          resolve(m);
        },
      });
      this.child.stdin.write(`${JSON.stringify({ jsonrpc: '2.0', id, method, params })}\n`);
    });
  }

  notify(method: string, params?: unknown): void {
    this.child.stdin.write(`${JSON.stringify({ jsonrpc: '2.0', method, params })}\n`);
  }

  /** initialize (2025-11-25, understood by v1 and v2 servers alike) + notifications/initialized. */
  async initialize(): Promise<Record<string, unknown>> {
    const response = await this.request('initialize', {
      protocolVersion: '2025-11-25',
      capabilities: {},
      clientInfo: { name: 'gatehouse-bench', version: '1.0.0' },
    });
    if (!response.result) throw new Error(`initialize failed: ${JSON.stringify(response.error)}`);
    this.notify('notifications/initialized');
    return response.result as Record<string, unknown>;
  }

  async callTool(name: string, args: unknown, timeoutMs?: number): Promise<Record<string, unknown>> {
    return this.request('tools/call', { name, arguments: args }, timeoutMs);
  }

  /** Resident set size of the server process in bytes (Linux /proc); VmHWM is its peak so far. */
  rss(field: 'VmRSS' | 'VmHWM' = 'VmRSS'): number {
    const status = readFileSync(`/proc/${this.pid}/status`, 'utf8');
    const match = new RegExp(`${field}:\\s+(\\d+) kB`).exec(status);
    return match ? Number(match[1]) * 1024 : Number.NaN;
  }

  /**
   * Ends stdin (a stdio server's cue to shut down cleanly, which also lets
   * --cpu-prof write its profile), then SIGTERM and finally SIGKILL.
   */
  async close(graceMs = 500): Promise<void> {
    if (this.exited) return;
    await new Promise<void>((resolve) => {
      const term = setTimeout(() => this.child.kill('SIGTERM'), graceMs);
      const kill = setTimeout(() => this.child.kill('SIGKILL'), graceMs + 3_000);
      this.child.once('exit', () => {
        clearTimeout(term);
        clearTimeout(kill);
        resolve();
      });
      this.child.stdin.end();
    });
  }
}

/**
 * Drives `total` calls with `concurrency` in flight (1 = sequential), stopping
 * early at `maxMs`. Returns per-call latencies and the achieved throughput.
 */
export async function drive(
  peer: StdioPeer,
  call: (i: number) => Promise<Record<string, unknown>>,
  options: { total: number; concurrency: number; maxMs: number },
): Promise<{ done: number; errors: number; ms: number; perSecond: number; latencies: number[] }> {
  const latencies: number[] = [];
  let issued = 0;
  let errors = 0;
  const started = performance.now();
  const deadline = started + options.maxMs;
  const worker = async () => {
    while (issued < options.total && performance.now() < deadline) {
      const i = issued++;
      const t0 = performance.now();
      const response = await call(i);
      latencies.push(performance.now() - t0);
      const result = response.result as { isError?: boolean } | undefined;
      if (!result || result.isError) errors += 1;
    }
  };
  void peer;
  await Promise.all(Array.from({ length: options.concurrency }, worker));
  const ms = performance.now() - started;
  return { done: latencies.length, errors, ms, perSecond: (latencies.length / ms) * 1000, latencies };
}
