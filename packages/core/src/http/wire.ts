/** The bytes of HTTP: request bodies, origin names, answers written with the audit flushed first. */
import { timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';

export const LOCAL_NAMES = ['localhost', '127.0.0.1', '[::1]'];
export const TOKEN_QUERY = /^(access_token|token|api_key|apikey|key|authorization|bearer)$/i;
const MAX_JSON_DEPTH = 64;
export const CORS_ALLOW_HEADERS =
  'authorization, content-type, accept, mcp-protocol-version, mcp-session-id, last-event-id, x-request-id, mcp-method, mcp-name, x-gatehouse-toolsets';
export const CORS_EXPOSE =
  'WWW-Authenticate, Mcp-Session-Id, Mcp-Protocol-Version, X-Request-Id, Retry-After';

/** What the access log and metrics learn about one request as it is served. */
export interface RequestState {
  id: string;
  route: string;
  principal?: string;
  release?: () => void;
  stream: boolean;
  reason?: string;
}

export function hostnameOf(entry: string): string {
  if (!entry.includes('://')) return entry.toLowerCase();
  try {
    return new URL(entry).hostname.toLowerCase();
  } catch {
    return entry.toLowerCase();
  }
}

/** Whether a JSON text nests deeper than `max` (a linear scan; strings are skipped). */
export function jsonTooDeep(text: string, max = MAX_JSON_DEPTH): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 92) i++;
      else if (c === 34) inString = false;
    } else if (c === 34) inString = true;
    else if (c === 123 || c === 91) {
      if (++depth > max) return true;
    } else if (c === 125 || c === 93) depth--;
  }
  return false;
}

/** A peer address without the IPv4-mapped prefix (`::ffff:127.0.0.1` is `127.0.0.1`). */
export const normalizeAddress = (address: string | undefined) =>
  address === undefined ? '' : address.startsWith('::ffff:') ? address.slice(7) : address;

export function safeEqual(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

export class BodyTooLarge extends Error {}

const prematureClose = () =>
  Object.assign(new Error('Premature close'), { code: 'ERR_STREAM_PREMATURE_CLOSE' });

/**
 * The whole request body, refused past `max` bytes. Read with stream events rather than `for await`:
 * one promise per body instead of an async generator and a promise per chunk, on every request.
 * Past the cap the request is let go as an abandoned `for await` lets it go (its iterator returned):
 * destroyed without its socket, so the 413 still reaches the client and the rest is never read.
 */
export function readBody(req: IncomingMessage, max: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    if (req.destroyed) {
      reject(prematureClose());
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    const settle = () => {
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('error', onError);
      req.off('close', onClose);
    };
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > max) {
        settle();
        void req[Symbol.asyncIterator]()
          .return?.()
          .catch(() => undefined);
        reject(new BodyTooLarge());
        return;
      }
      chunks.push(chunk);
    };
    const onEnd = () => {
      settle();
      resolve(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks));
    };
    const onError = (error: Error) => {
      settle();
      reject(error);
    };
    // Closed before its end: the client went away mid-body.
    const onClose = () => {
      settle();
      reject(prematureClose());
    };
    req.on('data', onData);
    req.on('end', onEnd);
    req.on('error', onError);
    req.on('close', onClose);
  });
}

function waitDrain(res: ServerResponse): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      res.off('drain', done);
      res.off('close', done);
      resolve();
    };
    res.once('drain', done);
    res.once('close', done);
  });
}

/** A complete JSON answer written as is, without a web Response around it. */
export class JsonReply {
  readonly text: string;
  constructor(value: unknown) {
    this.text = JSON.stringify(value);
  }
}

/**
 * Writes a reply. `beforeWrite` runs before every byte leaves (the audit
 * flush), so no answer reaches a client before its record is on disk.
 */
export async function send(
  res: ServerResponse,
  response: Response | JsonReply,
  extra: Record<string, string>,
  beforeWrite: () => void,
): Promise<void> {
  beforeWrite();
  if (response instanceof JsonReply) {
    // With its length declared the answer is one plain write, not a chunked body (size line, data, terminator).
    res.writeHead(200, {
      ...extra,
      'content-type': 'application/json',
      'content-length': Buffer.byteLength(response.text),
    });
    res.end(response.text);
    return;
  }
  const headers: Record<string, string | string[]> = { ...extra };
  response.headers.forEach((value, key) => {
    if (key !== 'set-cookie') headers[key] = value;
  });
  // Each cookie its own header line (the approval page sets two at once).
  const cookies = response.headers.getSetCookie();
  if (cookies.length > 0) headers['set-cookie'] = cookies;
  res.writeHead(response.status, headers);
  if (!response.body) {
    res.end();
    return;
  }
  const reader = response.body.getReader();
  res.once('close', () => void reader.cancel().catch(() => undefined));
  for (;;) {
    const { done, value } = await reader.read().catch(() => ({ done: true, value: undefined }));
    if (done || res.destroyed) break;
    beforeWrite();
    if (!res.write(value)) await waitDrain(res);
  }
  res.end();
}
