import { format } from 'node:util';
import {
  deserializeMessage,
  type JSONRPCMessage,
  type JSONRPCRequest,
  type JSONRPCResultResponse,
  serializeMessage,
  type Transport,
} from '@modelcontextprotocol/server';

/** Writes to the real stdout, whatever else has been rerouted. */
export type StdoutWriter = (chunk: string) => boolean;

/**
 * In stdio mode stdout carries JSON-RPC and nothing else. This takes stdout
 * for the transport alone and sends every other writer (console.log from any
 * library, stray process.stdout.write) to stderr.
 */
export function claimStdout(): StdoutWriter {
  const write = process.stdout.write.bind(process.stdout) as (chunk: string) => boolean;
  process.stdout.write = ((chunk: unknown, encoding?: unknown, callback?: unknown) =>
    (process.stderr.write as (...a: unknown[]) => boolean)(
      chunk,
      encoding,
      callback,
    )) as typeof process.stdout.write;
  for (const method of ['log', 'info', 'debug', 'dir', 'table', 'trace'] as const) {
    console[method] = (...args: unknown[]) => process.stderr.write(`${format(...args)}\n`);
  }
  return write;
}

export interface InboundObserver {
  /** Sees each inbound message before the SDK does. */
  onMessage(message: JSONRPCMessage): void;
  /** Told about lines that were not JSON-RPC at all. */
  onGarbage(error: Error): void;
}

/**
 * Answers a request without the SDK (call/direct.ts), or returns undefined to
 * leave it to the SDK. `signal` aborts when the client cancels the request or
 * the connection closes.
 */
export type DirectAnswer = (
  request: JSONRPCRequest,
  signal: AbortSignal,
) => Promise<JSONRPCResultResponse> | undefined;

/** Largest single JSON-RPC line accepted on stdin; longer lines are dropped with an error. */
const MAX_LINE_BYTES = 4 * 1024 * 1024;

/**
 * The stdio transport. The SDK's own skips unparsable lines silently and has
 * no per-line size cap; this one answers a line that is not JSON with -32700
 * and one that is not JSON-RPC (or too long) with -32600, parses each line
 * once, lets the server observe requests it will reject itself (unknown
 * tools) so they are audited, and writes to the real stdout only.
 */
export class GuardedStdioTransport implements Transport {
  onclose?: () => void;
  onerror?: (error: Error) => void;
  onmessage?: Transport['onmessage'];
  private readonly write: StdoutWriter;
  private readonly observer: InboundObserver;
  private readonly beforeWrite: (() => void) | undefined;
  private readonly direct: DirectAnswer | undefined;
  /** Requests answered without the SDK, by id: what notifications/cancelled aborts. */
  private readonly directCalls = new Map<JSONRPCRequest['id'], AbortController>();
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  private discarding = false;
  private closed = false;

  /**
   * `beforeWrite` runs before each write to stdout (the audit flush: nothing is answered before it
   * is on record); `direct` may answer a request itself instead of handing it to the SDK.
   */
  constructor(
    write: StdoutWriter,
    observer: InboundObserver,
    beforeWrite?: () => void,
    direct?: DirectAnswer,
  ) {
    this.write = write;
    this.observer = observer;
    this.beforeWrite = beforeWrite;
    this.direct = direct;
  }

  async start(): Promise<void> {
    process.stdin.on('data', this.onData);
    process.stdin.on('end', this.onEnd);
    process.stdin.on('close', this.onEnd);
    process.stdin.on('error', this.onInputError);
    process.stdout.on('error', this.onOutputError);
  }

  private readonly onData = (chunk: Buffer): void => {
    let start = 0;
    for (let end = chunk.indexOf(10); end !== -1; end = chunk.indexOf(10, start)) {
      const piece = chunk.subarray(start, end);
      if (!this.discarding) {
        // The read that completes a line counts towards the cap too.
        if (this.pendingBytes + piece.length > MAX_LINE_BYTES)
          this.reject(-32600, 'Invalid Request: message too large', new Error('line too long'));
        else
          this.handleLine(
            (this.pending.length ? Buffer.concat([...this.pending, piece]) : piece).toString('utf8'),
          );
      }
      this.pending = [];
      this.pendingBytes = 0;
      this.discarding = false;
      start = end + 1;
    }
    const rest = chunk.subarray(start);
    if (this.discarding || rest.length === 0) return;
    this.pendingBytes += rest.length;
    if (this.pendingBytes > MAX_LINE_BYTES) {
      this.discarding = true;
      this.pending = [];
      this.pendingBytes = 0;
      this.reject(-32600, 'Invalid Request: message too large', new Error('line too long'));
    } else this.pending.push(Buffer.from(rest));
  };

  private handleLine(line: string): void {
    const text = line.endsWith('\r') ? line.slice(0, -1) : line;
    if (text.trim() === '') return;
    let message: JSONRPCMessage;
    try {
      message = deserializeMessage(text);
    } catch (error) {
      const parse = error instanceof SyntaxError;
      this.reject(parse ? -32700 : -32600, parse ? 'Parse error' : 'Invalid Request', error as Error);
      return;
    }
    try {
      this.observer.onMessage(message);
    } catch {
      // Observation never blocks the protocol.
    }
    if (this.direct && this.answerDirectly(message)) return;
    this.onmessage?.(message);
  }

  /** Whether the request was taken off the SDK's hands; also routes a cancellation of such a request. */
  private answerDirectly(message: JSONRPCMessage): boolean {
    if (!('method' in message)) return false;
    if (!('id' in message)) {
      if (message.method === 'notifications/cancelled') {
        const id = (message.params as { requestId?: JSONRPCRequest['id'] } | undefined)?.requestId;
        if (id !== undefined) this.directCalls.get(id)?.abort();
      }
      return false;
    }
    // Two live requests with one id are the SDK's to sort out.
    if (this.directCalls.has(message.id)) return false;
    const abort = new AbortController();
    const answer = this.direct?.(message, abort.signal);
    if (!answer) return false;
    const { id } = message;
    this.directCalls.set(id, abort);
    answer
      .then(
        // A cancelled request gets no answer (as the SDK does); its record says cancelled.
        (response) => (abort.signal.aborted ? undefined : this.send(response)),
        (error: unknown) => {
          this.onerror?.(error as Error);
          return this.send({
            jsonrpc: '2.0',
            id,
            error: { code: -32603, message: 'Internal error' },
          } as unknown as JSONRPCMessage);
        },
      )
      .catch(() => undefined)
      .finally(() => this.directCalls.delete(id));
    return true;
  }

  private reject(code: number, message: string, cause: Error): void {
    this.observer.onGarbage(cause);
    void this.send({ jsonrpc: '2.0', id: null, error: { code, message } } as unknown as JSONRPCMessage).catch(
      () => undefined,
    );
  }

  private readonly onEnd = (): void => {
    void this.close();
  };
  private readonly onInputError = (error: Error): void => {
    this.onerror?.(error);
  };
  private readonly onOutputError = (error: Error): void => {
    this.onerror?.(error);
    void this.close();
  };

  /**
   * Answers finished in the same turn of the event loop leave in one write,
   * after the audit records behind them are on disk (`beforeWrite`).
   */
  send(message: JSONRPCMessage): Promise<void> {
    if (this.closed) return Promise.reject(new Error('stdio transport is closed'));
    return new Promise((resolve) => {
      this.outbox.push(serializeMessage(message));
      this.sent.push(resolve);
      // In the check phase, right after this poll's I/O: answers of calls whose upstream replies
      // arrived together, or whose requests came in one read, share a write (and an audit flush).
      if (this.outbox.length === 1) setImmediate(this.drainOutbox);
    });
  }

  private outbox: string[] = [];
  private sent: Array<() => void> = [];

  private readonly drainOutbox = (): void => {
    const data = this.outbox.length === 1 ? this.outbox[0]! : this.outbox.join('');
    const sent = this.sent;
    this.outbox = [];
    this.sent = [];
    try {
      this.beforeWrite?.();
    } catch (error) {
      this.onerror?.(error as Error);
    }
    const done = () => {
      for (const resolve of sent) resolve();
    };
    if (this.write(data)) done();
    else process.stdout.once('drain', done);
  };

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    process.stdin.off('data', this.onData);
    process.stdin.off('end', this.onEnd);
    process.stdin.off('close', this.onEnd);
    process.stdin.off('error', this.onInputError);
    process.stdin.pause();
    for (const abort of this.directCalls.values()) abort.abort();
    this.onclose?.();
  }
}
