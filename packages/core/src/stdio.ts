import { Writable } from 'node:stream';
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
    (process.stderr.write as (...a: unknown[]) => boolean)(chunk, encoding, callback)) as typeof process.stdout.write;
  process.stdout.write = toStderr;
  for (const method of ['log', 'info', 'debug', 'dir', 'table', 'trace'] as const) {
    // biome-ignore lint/suspicious/noConsole: rerouting console output away from the protocol channel.
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

/**
 * Wraps the SDK's stdio transport to do what it leaves out: answer an
 * unparsable line with JSON-RPC -32700 (and a malformed message with -32600)
 * instead of silence, and let the server observe requests it will reject
 * itself (unknown tools) so they are audited too.
 */
export class GuardedStdioTransport implements Transport {
  private readonly inner: StdioServerTransport;
  onclose?: () => void;
  onerror?: (error: Error) => void;
  onmessage?: Transport['onmessage'];

  constructor(stdout: Writable, private readonly observer: InboundObserver) {
    this.inner = new StdioServerTransport(process.stdin, stdout);
    this.inner.onclose = () => this.onclose?.();
    this.inner.onerror = (error) => {
      const parseError = error instanceof SyntaxError;
      const malformed = parseError || error.name === 'ZodError' || /json-?rpc|invalid message/i.test(error.message);
      if (!malformed) {
        this.onerror?.(error);
        return;
      }
      this.observer.onGarbage(error);
      void this.inner
        .send({ jsonrpc: '2.0', id: null, error: { code: parseError ? -32700 : -32600, message: parseError ? 'Parse error' : 'Invalid Request' } } as unknown as JSONRPCMessage)
        .catch(() => undefined);
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
