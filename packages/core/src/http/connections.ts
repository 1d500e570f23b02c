/**
 * The socket side of the HTTP front, before any request reaches the app: Node's header and request
 * timeouts (checked often enough to matter), every refusal answered and then the socket destroyed, and a
 * cap on connections per source address that have not yet delivered a request.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { normalizeAddress } from './wire.ts';

export interface SocketLimits {
  /** The whole request head must arrive within this (Node's `headersTimeout`); 408 and destroyed beyond. */
  headersTimeoutMs: number;
  /** The whole request, head and body, must arrive within this (Node's `requestTimeout`; >= headers). */
  requestTimeoutMs: number;
  /** An idle keep-alive connection is closed after this. */
  keepAliveTimeoutMs: number;
  /** How often Node looks for expired heads and requests: a timeout fires up to this much late. */
  checkIntervalMs: number;
  /** Largest request head (431 and destroyed beyond). */
  maxHeaderBytes: number;
  /** Connections from one peer address with no request yet; the next one is destroyed on accept. */
  maxPendingPerSource: number;
}

export const SOCKET_DEFAULTS: Readonly<SocketLimits> = Object.freeze({
  headersTimeoutMs: 10_000,
  requestTimeoutMs: 60_000,
  keepAliveTimeoutMs: 5_000,
  checkIntervalMs: 1_000,
  maxHeaderBytes: 16 * 1024,
  maxPendingPerSource: 32,
});

/** Why a connection was let go before a request was served. */
export type Refusal = 'pending-cap' | 'timeout' | 'header-too-large' | 'bad-request' | 'reset';

export interface ConnectionGuard {
  readonly limits: Readonly<SocketLimits>;
  /** Connections from `source` (a peer address) that have not delivered a request yet; all when omitted. */
  pending(source?: string): number;
  /** Refusals since the last `takeRefusals()`, per source and reason (then cleared). */
  takeRefusals(): { source: string; reason: Refusal; count: number }[];
}

const CLOSE = 'Connection: close\r\nContent-Length: 0\r\n\r\n';
const ANSWERS: Record<string, string> = {
  ERR_HTTP_REQUEST_TIMEOUT: `HTTP/1.1 408 Request Timeout\r\n${CLOSE}`,
  HPE_HEADER_OVERFLOW: `HTTP/1.1 431 Request Header Fields Too Large\r\n${CLOSE}`,
  HPE_CHUNK_EXTENSIONS_OVERFLOW: `HTTP/1.1 413 Payload Too Large\r\n${CLOSE}`,
};
const BAD_REQUEST = `HTTP/1.1 400 Bad Request\r\n${CLOSE}`;
const REASONS: Record<string, Refusal> = {
  ERR_HTTP_REQUEST_TIMEOUT: 'timeout',
  HPE_HEADER_OVERFLOW: 'header-too-large',
  HPE_CHUNK_EXTENSIONS_OVERFLOW: 'header-too-large',
  ECONNRESET: 'reset',
};

function socketLimits(overrides: Partial<SocketLimits> = {}): SocketLimits {
  const limits = { ...SOCKET_DEFAULTS };
  for (const [key, value] of Object.entries(overrides) as [keyof SocketLimits, number | undefined][])
    if (value !== undefined) limits[key] = value;
  // Node refuses a head deadline beyond the whole-request deadline.
  limits.requestTimeoutMs = Math.max(limits.requestTimeoutMs, limits.headersTimeoutMs);
  return limits;
}

/**
 * A node:http server with `limits` applied and the guard attached; `listener` (when given) is added
 * after the guard's own 'request' hook. The binary (serveHttp) and the in-process test front both
 * build their server here, so both let slow clients go alike.
 */
export function createHttpServer(
  overrides: Partial<SocketLimits> = {},
  listener?: (req: IncomingMessage, res: ServerResponse) => void,
  /** Told of every refusal as it happens (the app audits them, folded per source and interval). */
  onRefuse?: (source: string, reason: Refusal) => void,
): { server: Server; guard: ConnectionGuard } {
  const limits = socketLimits(overrides);
  const server = createServer({
    maxHeaderSize: limits.maxHeaderBytes,
    headersTimeout: limits.headersTimeoutMs,
    requestTimeout: limits.requestTimeoutMs,
    keepAliveTimeout: limits.keepAliveTimeoutMs,
    connectionsCheckingInterval: limits.checkIntervalMs,
  });
  const pendingBySource = new Map<string, number>();
  /** Sockets still counted as pending, with what un-counts them. */
  const release = new WeakMap<Duplex, () => void>();
  /** The response in flight on a socket: once its head is out, a refusal must not write another. */
  const inFlight = new WeakMap<Duplex, ServerResponse>();
  const refusals = new Map<string, { source: string; reason: Refusal; count: number }>();
  const refuse = (source: string, reason: Refusal) => {
    onRefuse?.(source, reason);
    const key = `${reason} ${source}`;
    const entry = refusals.get(key);
    if (entry) entry.count += 1;
    // Bounded: a flood from many sources between two reads keeps one entry per source and reason, at most 10k.
    else if (refusals.size < 10_000) refusals.set(key, { source, reason, count: 1 });
  };

  server.on('connection', (socket: Duplex & { remoteAddress?: string }) => {
    const source = normalizeAddress(socket.remoteAddress) || 'unknown';
    const count = pendingBySource.get(source) ?? 0;
    if (count >= limits.maxPendingPerSource) {
      refuse(source, 'pending-cap');
      socket.destroy();
      return;
    }
    pendingBySource.set(source, count + 1);
    let counted = true;
    const done = () => {
      if (!counted) return;
      counted = false;
      const left = (pendingBySource.get(source) ?? 1) - 1;
      if (left > 0) pendingBySource.set(source, left);
      else pendingBySource.delete(source);
    };
    release.set(socket, done);
    socket.once('close', done);
  });

  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    const socket = req.socket;
    release.get(socket)?.();
    inFlight.set(socket, res);
    res.once('close', () => {
      if (inFlight.get(socket) === res) inFlight.delete(socket);
    });
  });
  if (listener) server.on('request', listener);

  // Every refusal before a request is served: the answer (when one can still be written), then the
  // socket destroyed. Never `end()` alone: a client that keeps its side open would hold it for ever.
  server.on('clientError', (error: NodeJS.ErrnoException, socket: Duplex & { remoteAddress?: string }) => {
    const code = error.code ?? '';
    refuse(normalizeAddress(socket.remoteAddress) || 'unknown', REASONS[code] ?? 'bad-request');
    if (code !== 'ECONNRESET' && socket.writable && !inFlight.get(socket)?.headersSent)
      socket.write(ANSWERS[code] ?? BAD_REQUEST);
    socket.destroy();
  });

  return {
    server,
    guard: {
      limits,
      pending: (source) =>
        source === undefined
          ? [...pendingBySource.values()].reduce((a, b) => a + b, 0)
          : (pendingBySource.get(source) ?? 0),
      takeRefusals() {
        const all = [...refusals.values()];
        refusals.clear();
        return all;
      },
    },
  };
}
