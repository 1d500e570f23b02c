/**
 * The socket side of the upstream client: requests on undici's `request` over
 * a connection pool of the upstream's own, and bodies read under the size cap.
 *
 * Not `fetch`: on the same loopback GET, `fetch` spends about three times the
 * CPU of `request` (WHATWG Request/Response/Headers objects and web streams per
 * call), and a gateway makes one or more of these per tool call. What fetch did
 * for us is done here on purpose: redirects are not followed (undici's `request`
 * never follows one), and a compressed body is inflated by node:zlib as it is
 * read, counting inflated bytes against the cap, so a compression bomb stops at
 * the cap instead of being inflated whole.
 */
import type { IncomingHttpHeaders } from 'node:http';
import { pipeline, type Readable, type Transform } from 'node:stream';
import * as zlib from 'node:zlib';
import type { Agent } from 'undici';
import { GatehouseError } from '../define/errors.ts';
import type { Libraries } from './faults.ts';
import { isDecodingError } from './faults.ts';

/** An answer's status and headers: what retries, Retry-After and the typed errors read. */
export interface UpstreamHead {
  readonly status: number;
  readonly headers: { get(name: string): string | null; has(name: string): boolean };
}

/** An answer whose body is still on the wire. */
export interface UpstreamAnswer extends UpstreamHead {
  readonly body: Readable & { text(): Promise<string>; dump(): Promise<void> };
}

export interface WireRequest {
  method: 'GET' | 'POST';
  headers: Record<string, string>;
  body?: string | undefined;
}

/** What fetch asked for by default; each is inflated below. */
export const ACCEPT_ENCODING = 'gzip, deflate, br';

/** Header lookups on undici's plain object (lower-case names; a repeated header as a list). */
class HeaderView {
  private readonly raw: IncomingHttpHeaders;
  constructor(raw: IncomingHttpHeaders) {
    this.raw = raw;
  }
  get(name: string): string | null {
    const value = this.raw[name];
    if (value === undefined) return null;
    return Array.isArray(value) ? value.join(', ') : value;
  }
  has(name: string): boolean {
    return this.raw[name] !== undefined;
  }
}

/** One upstream's connection pool (keep-alive), closed with the server. */
export class Wire {
  private readonly agent: Agent;
  private readonly request: Libraries['undici']['request'];

  /** Takes undici's parts as loaded on the first call (faults.ts `loadLibraries`). */
  constructor(undici: Libraries['undici']) {
    this.agent = new undici.Agent({ keepAliveTimeout: 10_000, keepAliveMaxTimeout: 60_000 });
    this.request = undici.request;
  }

  /** Sends one request and resolves at the answer's headers; the signal aborts it (and its body) at any point. */
  async send(url: URL, init: WireRequest, signal: AbortSignal): Promise<UpstreamAnswer> {
    const answer = await this.request.call(this.agent, {
      origin: url.origin,
      path: `${url.pathname}${url.search}`,
      method: init.method,
      headers: init.headers,
      body: init.body,
      signal,
    });
    return {
      status: answer.statusCode,
      headers: new HeaderView(answer.headers),
      body: answer.body as UpstreamAnswer['body'],
    };
  }

  /** Drops an answer's body unread (a small one is drained, so its connection goes back to the pool). */
  discard(answer: UpstreamAnswer): void {
    answer.body.dump().catch(() => undefined);
  }

  close(): Promise<void> {
    return this.agent.close();
  }
}

/** The encodings asked for, by name: a Map, so a name such as `constructor` finds nothing. */
const INFLATERS = new Map<string, () => Transform>([
  ['gzip', () => zlib.createGunzip()],
  ['x-gzip', () => zlib.createGunzip()],
  ['deflate', () => zlib.createInflate()],
  ['br', () => zlib.createBrotliDecompress()],
]);

/**
 * Reads a JSON body: a declared length over the cap is refused before reading,
 * anything but a JSON content type is refused unread, and a body of unknown
 * length or compressed is counted (inflated) chunk by chunk and cut at the cap.
 * `bad` turns a reason into the typed error the caller sees.
 */
export async function readJsonBody(
  answer: UpstreamAnswer,
  max: number,
  bad: (what: string) => GatehouseError,
): Promise<unknown> {
  const declared = Number(answer.headers.get('content-length') ?? Number.NaN);
  if (declared > max) {
    answer.body.destroy();
    throw bad(`its response (${declared} bytes) is larger than the ${max}-byte limit`);
  }
  const type = answer.headers.get('content-type') ?? '';
  if (!/\bjson\b/i.test(type)) {
    answer.body.destroy();
    throw bad(
      `it answered with ${type ? `content type ${type.split(';')[0]}` : 'no content type'} instead of JSON`,
    );
  }
  const encoding = (answer.headers.get('content-encoding') ?? 'identity').trim().toLowerCase();
  // A declared length within the cap is enforced by the HTTP parser itself: read it in one go.
  if (encoding === 'identity' && Number.isFinite(declared) && declared > 0)
    return parseJson(await answer.body.text(), bad);
  let source: Readable = answer.body;
  if (encoding !== 'identity') {
    const inflater = INFLATERS.get(encoding);
    if (!inflater) {
      answer.body.destroy();
      throw bad(`its body could not be decoded as ${encoding}`);
    }
    source = pipeline(answer.body, inflater(), () => undefined);
  }
  const chunks: Buffer[] = [];
  let size = 0;
  try {
    for await (const chunk of source as AsyncIterable<Buffer>) {
      size += chunk.byteLength;
      if (size > max) {
        source.destroy();
        answer.body.destroy();
        throw bad(`its response is larger than the ${max}-byte limit`);
      }
      chunks.push(chunk);
    }
  } catch (error) {
    if (error instanceof GatehouseError) throw error;
    // A body that is not what its Content-Encoding says is the upstream's fault.
    if (isDecodingError(error)) throw bad(`its body could not be decoded as ${encoding}`);
    throw error;
  }
  return parseJson(Buffer.concat(chunks).toString('utf8'), bad);
}

function parseJson(text: string, bad: (what: string) => GatehouseError): unknown {
  try {
    return JSON.parse(text);
  } catch {
    throw bad('its response is not valid JSON');
  }
}
