import { Transform, Writable } from 'node:stream';
import { format } from 'node:util';
import type { JSONRPCMessage, Transport, TransportSendOptions } from '@modelcontextprotocol/server';
import { StdioServerTransport } from '@modelcontextprotocol/server/stdio';

/**
 * In stdio mode stdout carries JSON-RPC and nothing else. This takes stdout
 * for the transport alone and sends every other writer (console.log from any
 * library, stray process.stdout.write) to stderr.
 */
export function claimStdout(): Writable {
  const write = process.stdout.write.bind(process.stdout);
  const toStderr = ((chunk: unknown, encoding?: unknown, callback?: unknown) =>
    (process.stderr.write as (...a: unknown[]) => boolean)(
      chunk,
      encoding,
      callback,
    )) as typeof process.stdout.write;
  process.stdout.write = toStderr;
  for (const method of ['log', 'info', 'debug', 'dir', 'table', 'trace'] as const) {
    console[method] = (...args: unknown[]) => process.stderr.write(`${format(...args)}\n`);
  }
  return new Writable({
    write(chunk, encoding, callback) {
      write(chunk, encoding, callback);
    },
  }).on('error', () => undefined) as Writable & { fd?: number };
}

export interface InboundObserver {
  /** Sees each inbound message before the SDK does. */
  onMessage(message: JSONRPCMessage): void;
  /** Told about lines that were not JSON-RPC at all. */
  onGarbage(error: Error): void;
}

/** Largest single JSON-RPC line accepted on stdin; longer lines are dropped with an error. */
const MAX_LINE_BYTES = 4 * 1024 * 1024;

/**
 * Splits stdin into lines and lets only parseable JSON through. The SDK's
 * reader skips unparsable lines silently; a client deserves -32700 instead,
 * and an oversized line must not grow the buffer without bound.
 */
function jsonLines(onGarbage: (reason: 'parse' | 'size') => void): Transform {
  let pending: Buffer[] = [];
  let pendingBytes = 0;
  let discarding = false;
  const emit = (stream: Transform, line: Buffer) => {
    const text = line.toString('utf8').replace(/\r$/, '');
    if (text.trim() === '') return;
    try {
      JSON.parse(text);
    } catch {
      onGarbage('parse');
      return;
    }
    stream.push(`${text}\n`);
  };
  return new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      let start = 0;
      for (let i = chunk.indexOf(10); i !== -1; i = chunk.indexOf(10, start)) {
        const piece = chunk.subarray(start, i);
        if (!discarding) emit(this, pending.length ? Buffer.concat([...pending, piece]) : piece);
        pending = [];
        pendingBytes = 0;
        discarding = false;
        start = i + 1;
      }
      const rest = chunk.subarray(start);
      if (!discarding && rest.length > 0) {
        pendingBytes += rest.length;
        if (pendingBytes > MAX_LINE_BYTES) {
          discarding = true;
          pending = [];
          pendingBytes = 0;
          onGarbage('size');
        } else pending.push(Buffer.from(rest));
      }
      callback();
    },
  });
}

/**
 * Wraps the SDK's stdio transport to do what it leaves out: answer an
 * unparsable line with JSON-RPC -32700 (and an oversized one with -32600)
 * instead of silence, and let the server observe requests it will reject
 * itself (unknown tools) so they are audited too.
 */
export class GuardedStdioTransport implements Transport {
  private readonly inner: StdioServerTransport;
  onclose?: () => void;
  onerror?: (error: Error) => void;
  onmessage?: Transport['onmessage'];

  private readonly observer: InboundObserver;

  constructor(stdout: Writable, observer: InboundObserver) {
    this.observer = observer;
    const input = process.stdin.pipe(
      jsonLines((reason) => {
        this.observer.onGarbage(new Error(reason === 'parse' ? 'unparsable line' : 'line too long'));
        const error =
          reason === 'parse'
            ? { code: -32700, message: 'Parse error' }
            : { code: -32600, message: 'Invalid Request: message too large' };
        void this.inner
          .send({ jsonrpc: '2.0', id: null, error } as unknown as JSONRPCMessage)
          .catch(() => undefined);
      }),
    );
    this.inner = new StdioServerTransport(input, stdout);
    this.inner.onclose = () => this.onclose?.();
    this.inner.onerror = (error) => {
      this.observer.onGarbage(error);
      this.onerror?.(error);
    };
    this.inner.onmessage = (message: JSONRPCMessage) => {
      try {
        this.observer.onMessage(message);
      } catch {
        // Observation never blocks the protocol.
      }
      this.onmessage?.(message);
    };
  }

  start(): Promise<void> {
    return this.inner.start();
  }
  send(message: JSONRPCMessage, options?: TransportSendOptions): Promise<void> {
    void options;
    return this.inner.send(message);
  }
  close(): Promise<void> {
    return this.inner.close();
  }
}
