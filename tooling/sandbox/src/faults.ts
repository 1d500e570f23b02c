import { gzipSync } from 'node:zlib';
import { createRng } from './prng.ts';

export type FaultBody = 'malformed' | 'html' | 'oversized' | 'wrong-type' | 'schema' | 'gzip-bomb';
export const FAULT_BODIES: readonly FaultBody[] = [
  'malformed',
  'html',
  'oversized',
  'wrong-type',
  'schema',
  'gzip-bomb',
];

export interface FaultRule {
  /** HTTP method to match (case-insensitive); any method when omitted. */
  method?: string;
  /** Prefix match on the request pathname; every non-control path when omitted. */
  path?: string;
  /** Apply to the next N matching requests, then expire. Unlimited when omitted. */
  times?: number;
  /** Probability (0..1) that a matching request is affected. Default 1. */
  rate?: number;
  /** Delay before answering (combined with any other effect, or alone). */
  latencyMs?: number;
  /** Answer this status with a JSON error body instead of running the real handler. */
  status?: number;
  /** Sets the Retry-After header (seconds or an HTTP-date). */
  retryAfter?: string;
  /** Replace or corrupt the body. */
  body?: FaultBody;
  /** Accept the request and never answer until the client goes away. */
  hang?: true;
  /** Destroy the socket without answering. */
  reset?: true;
  /** Send the (otherwise valid) response body very slowly. */
  drip?: { chunkBytes: number; intervalMs: number };
}

const KEYS = new Set([
  'method',
  'path',
  'times',
  'rate',
  'latencyMs',
  'status',
  'retryAfter',
  'body',
  'hang',
  'reset',
  'drip',
]);

const isInt = (v: unknown, min: number, max: number): v is number =>
  typeof v === 'number' && Number.isInteger(v) && v >= min && v <= max;

/** Validates an untrusted rule list; returns an error message or the normalised rules. */
export function validateRules(input: unknown): { rules: FaultRule[] } | { error: string } {
  if (!Array.isArray(input)) return { error: 'rules must be an array' };
  if (input.length > 100) return { error: 'at most 100 rules are allowed' };
  const rules: FaultRule[] = [];
  for (const [index, raw] of input.entries()) {
    const where = `rules[${index}]`;
    if (raw === null || typeof raw !== 'object' || Array.isArray(raw))
      return { error: `${where} must be an object` };
    const r = raw as Record<string, unknown>;
    for (const key of Object.keys(r))
      if (!KEYS.has(key)) return { error: `${where}.${key} is not a known fault field` };
    const rule: FaultRule = {};
    if (r.method !== undefined) {
      if (typeof r.method !== 'string' || !/^[A-Za-z]{1,16}$/.test(r.method))
        return { error: `${where}.method must be an HTTP method` };
      rule.method = r.method.toUpperCase();
    }
    if (r.path !== undefined) {
      if (typeof r.path !== 'string' || !r.path.startsWith('/'))
        return { error: `${where}.path must start with /` };
      rule.path = r.path;
    }
    if (r.times !== undefined) {
      if (!isInt(r.times, 1, 1_000_000_000)) return { error: `${where}.times must be a positive integer` };
      rule.times = r.times;
    }
    if (r.rate !== undefined) {
      if (typeof r.rate !== 'number' || !(r.rate >= 0 && r.rate <= 1))
        return { error: `${where}.rate must be between 0 and 1` };
      rule.rate = r.rate;
    }
    if (r.latencyMs !== undefined) {
      if (!isInt(r.latencyMs, 0, 600_000))
        return { error: `${where}.latencyMs must be an integer between 0 and 600000` };
      rule.latencyMs = r.latencyMs;
    }
    if (r.status !== undefined) {
      if (!isInt(r.status, 100, 599)) return { error: `${where}.status must be an HTTP status code` };
      rule.status = r.status;
    }
    if (r.retryAfter !== undefined) {
      if (typeof r.retryAfter !== 'string' || !/^[\x20-\x7e]{1,64}$/.test(r.retryAfter))
        return { error: `${where}.retryAfter must be a short string` };
      rule.retryAfter = r.retryAfter;
    }
    if (r.body !== undefined) {
      if (!(FAULT_BODIES as readonly unknown[]).includes(r.body))
        return { error: `${where}.body must be one of ${FAULT_BODIES.join(', ')}` };
      rule.body = r.body as FaultBody;
    }
    if (r.hang !== undefined) {
      if (r.hang !== true) return { error: `${where}.hang must be true when present` };
      rule.hang = true;
    }
    if (r.reset !== undefined) {
      if (r.reset !== true) return { error: `${where}.reset must be true when present` };
      rule.reset = true;
    }
    if (r.drip !== undefined) {
      const d = r.drip as Record<string, unknown> | null;
      if (
        d === null ||
        typeof d !== 'object' ||
        !isInt(d.chunkBytes, 1, 10_000_000) ||
        !isInt(d.intervalMs, 0, 60_000)
      ) {
        return { error: `${where}.drip must be { chunkBytes: 1.., intervalMs: 0..60000 }` };
      }
      rule.drip = { chunkBytes: d.chunkBytes, intervalMs: d.intervalMs };
    }
    rules.push(rule);
  }
  return { rules };
}

/** Holds the active rules; `match` consumes one use of a `times`-limited rule. */
export class FaultSet {
  private rules: FaultRule[] = [];
  private readonly rng = createRng('faults');

  replace(rules: FaultRule[]): void {
    this.rules = rules.map((r) => ({ ...r }));
  }

  clear(): void {
    this.rules = [];
  }

  list(): FaultRule[] {
    return this.rules.map((r) => ({ ...r }));
  }

  match(method: string, pathname: string): FaultRule | undefined {
    for (let i = 0; i < this.rules.length; i++) {
      const rule = this.rules[i]!;
      if (rule.method && rule.method !== method) continue;
      if (rule.path && !pathname.startsWith(rule.path)) continue;
      if (rule.rate !== undefined && rule.rate < 1 && this.rng.next() >= rule.rate) continue;
      if (rule.times !== undefined) {
        rule.times -= 1;
        if (rule.times <= 0) this.rules.splice(i, 1);
      }
      return rule;
    }
    return undefined;
  }
}

let oversized: Buffer | undefined;

/** A valid JSON document of roughly 20 MB, built once per process. */
export function oversizedPayload(): Buffer {
  if (!oversized) {
    const filler = 'x'.repeat(200);
    const parts: string[] = [];
    for (let i = 0; i < 84_000; i++)
      parts.push(
        `{"id":"item-${String(i).padStart(6, '0')}","name":"padding record ${i}","description":"${filler}"}`,
      );
    oversized = Buffer.from(
      `{"items":[${parts.join(',')}],"nextCursor":null,"total":${parts.length}}`,
      'utf8',
    );
  }
  return oversized;
}

const MIB = 1024 * 1024;
const BOMB_HEAD = '{"padding":"';
const BOMB_TAIL = '"}';
/** MiB of padding inside the compression bomb. */
const BOMB_MIBS = 1024;
/** What the compression bomb inflates to: a valid JSON document of 1 GiB and 14 bytes. */
export const GZIP_BOMB_INFLATED_BYTES = BOMB_HEAD.length + BOMB_MIBS * MIB + BOMB_TAIL.length;

let bomb: Buffer | undefined;

/**
 * A compression bomb for `Content-Encoding: gzip`: about 1 MiB on the wire that
 * inflates to {@link GZIP_BOMB_INFLATED_BYTES}. A gzip file may be a series of
 * members (RFC 1952 §2.2), so one compressed MiB of padding is repeated between a
 * compressed head and tail: built once per process in milliseconds, never inflated here.
 */
export function gzipBombPayload(): Buffer {
  if (!bomb) {
    const padding = gzipSync(Buffer.alloc(MIB, 0x78), { level: 9 });
    bomb = Buffer.concat([
      gzipSync(BOMB_HEAD),
      ...Array.from({ length: BOMB_MIBS }, () => padding),
      gzipSync(BOMB_TAIL),
    ]);
  }
  return bomb;
}

export const HTML_PAGE =
  '<!DOCTYPE html>\n<html><head><title>502 Bad Gateway</title></head><body><center><h1>502 Bad Gateway</h1></center><hr><center>nginx/1.25.3</center></body></html>\n';

export function faultErrorCode(status: number): string {
  switch (status) {
    case 429:
      return 'rate_limited';
    case 500:
      return 'internal';
    case 502:
      return 'bad_gateway';
    case 503:
      return 'unavailable';
    case 504:
      return 'gateway_timeout';
    default:
      return status >= 500 ? 'internal' : 'injected_fault';
  }
}
