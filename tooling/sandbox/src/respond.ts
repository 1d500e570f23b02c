/** Writing responses: the outgoing shape, JSON replies, request bodies, and paced (drip) sends. */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { FaultRule } from './faults.ts';
import type { Reply } from './http.ts';

export interface Outgoing {
  status: number;
  headers: Record<string, string>;
  payload: string | Buffer;
}

export const JSON_TYPE = 'application/json; charset=utf-8';
export const MAX_BODY_BYTES = 1_048_576;

export function jsonOut(status: number, body: unknown, headers: Record<string, string> = {}): Outgoing {
  return { status, headers: { 'content-type': JSON_TYPE, ...headers }, payload: JSON.stringify(body) };
}

export function replyOut(reply: Reply): Outgoing {
  return jsonOut(reply.status, reply.body, reply.headers);
}

export function firstHeader(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

export function readBody(req: IncomingMessage): Promise<Buffer | 'too_large'> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let tooLarge = false;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) tooLarge = true;
      else chunks.push(chunk);
    });
    req.on('end', () => resolve(tooLarge ? 'too_large' : Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

/** Timers for latency and drip faults, all cancelled at once when the sandbox closes. */
export class Pacer {
  private readonly timers = new Set<NodeJS.Timeout>();
  private closing = false;

  /** Resolves true after `ms`, or false as soon as the response closes (client went away / shutdown). */
  wait(ms: number, res: ServerResponse): Promise<boolean> {
    return new Promise((resolve) => {
      if (res.closed || this.closing) return resolve(false);
      const onClose = () => {
        clearTimeout(timer);
        this.timers.delete(timer);
        resolve(false);
      };
      const timer = setTimeout(() => {
        this.timers.delete(timer);
        res.off('close', onClose);
        resolve(true);
      }, ms);
      this.timers.add(timer);
      res.once('close', onClose);
    });
  }

  close(): void {
    this.closing = true;
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
  }
}

/** Sends `out` whole, or in `drip` chunks with a pause between them. */
export async function send(
  res: ServerResponse,
  out: Outgoing,
  drip: FaultRule['drip'],
  pacer: Pacer,
): Promise<void> {
  if (res.closed || res.destroyed) return;
  const payload = typeof out.payload === 'string' ? Buffer.from(out.payload, 'utf8') : out.payload;
  res.writeHead(out.status, { ...out.headers, 'content-length': String(payload.length) });
  if (!drip) {
    res.end(payload);
    return;
  }
  res.flushHeaders();
  for (let offset = 0; offset < payload.length; offset += drip.chunkBytes) {
    if (offset > 0 && !(await pacer.wait(drip.intervalMs, res))) return;
    res.write(payload.subarray(offset, offset + drip.chunkBytes));
  }
  res.end();
}
