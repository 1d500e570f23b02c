import { createHmac, randomBytes } from 'node:crypto';
import {
  closeSync,
  existsSync,
  fsyncSync,
  openSync,
  readFileSync,
  statSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { pino } from 'pino';
import { keyedDigest } from './canonical.ts';
import { SECRET_KEYS } from './logger.ts';
import { maskPiiDeep } from './pii.ts';

export type AuditKind = 'tool' | 'resource' | 'prompt' | 'protocol';
export type AuditDecision =
  | 'allowed'
  | 'denied'
  | 'invalid'
  | 'unknown'
  | 'approval_requested'
  | 'approved'
  | 'declined';
export type AuditOutcome = 'ok' | 'error' | 'cancelled' | 'pending';

/** One record per request the server answers (`event: "call"`), plus a pre-effect `intent` record for side effects. */
export interface AuditRecord {
  event: 'call' | 'intent';
  server: string;
  principal: { id: string; kind: string; clientId?: string };
  kind: AuditKind;
  name: string;
  callId: string;
  requestId: string;
  args?: unknown;
  argsDigest?: string;
  decision: AuditDecision;
  approval?: { id: string; mode: string };
  outcome: AuditOutcome;
  errorCode?: string;
  upstreamStatus?: number;
  upstreamCalls?: number;
  durationMs?: number;
}

export interface AuditOptions {
  server: string;
  /** Append-only file; stderr when absent (never stdout). */
  file?: string;
  /** HMAC key for the chain and the argument digests. */
  key?: string;
  /** Removes known secret values from each line before it is chained and written. */
  scrub?: (line: string) => string;
}

const SECRET_KEY_SET = new Set<string>(SECRET_KEYS.map((k) => k.toLowerCase()));

/** Replaces secrets and fields a tool marks sensitive; masks personal data in everything else. */
export function redactArgs(args: unknown, sensitive: readonly string[] = []): unknown {
  const hidden = new Set(sensitive.map((k) => k.toLowerCase()));
  const walk = (value: unknown): unknown => {
    if (Array.isArray(value)) return value.map(walk);
    if (value && typeof value === 'object') {
      return Object.fromEntries(
        Object.entries(value).map(([k, v]) => [
          k,
          SECRET_KEY_SET.has(k.toLowerCase()) || hidden.has(k.toLowerCase()) ? '[REDACTED]' : walk(v),
        ]),
      );
    }
    if (typeof value === 'string' && value.length > 512)
      return `${value.slice(0, 512)}…[${value.length} chars]`;
    return value;
  };
  return maskPiiDeep(walk(args));
}

/** Loads the audit key, or creates one beside the audit file with owner-only permissions. */
export function resolveAuditKey(options: { key?: string; file?: string }): string {
  if (options.key) return options.key;
  if (options.file) {
    const keyFile = `${options.file}.key`;
    if (existsSync(keyFile)) return readFileSync(keyFile, 'utf8').trim();
    const key = randomBytes(32).toString('base64url');
    writeFileSync(keyFile, `${key}\n`, { mode: 0o600, flag: 'wx' });
    return key;
  }
  return randomBytes(32).toString('base64url');
}

const GENESIS = 'genesis';

function chainMac(key: string, prevMac: string, line: string): string {
  return createHmac('sha256', key).update(prevMac).update('\n').update(line).digest('base64url');
}

/**
 * The audit trail. Built on pino for its serialisation and time stamps; every
 * line is written synchronously and carries an HMAC over the previous line's
 * MAC and its own content, so an edit, deletion or reordering breaks the chain
 * at a point `verifyAuditFile` names. A write that fails throws, which the
 * seam turns into AUDIT_UNAVAILABLE before any side effect runs.
 */
export class AuditLog {
  readonly key: string;
  private readonly logger: pino.Logger;
  private readonly fd: number;
  private prevMac: string;
  private seq = 0;
  private readonly options: AuditOptions;

  constructor(options: AuditOptions) {
    this.options = options;
    this.key = resolveAuditKey(options);
    this.fd = options.file ? openSync(options.file, 'a', 0o600) : 2;
    this.prevMac = options.file ? lastMac(options.file) : GENESIS;
    const sink = {
      write: (line: string) => {
        const body = (this.options.scrub ? this.options.scrub(line) : line).trimEnd();
        const mac = chainMac(this.key, this.prevMac, body);
        writeSync(this.fd, `${body.slice(0, -1)},"mac":"${mac}"}\n`);
        this.prevMac = mac;
      },
    };
    this.logger = pino({ base: null, messageKey: 'msg', timestamp: pino.stdTimeFunctions.isoTime }, sink);
  }

  digest(args: unknown): string {
    return keyedDigest(this.key, args);
  }

  private readonly observers: Array<(record: Omit<AuditRecord, 'server'>) => void> = [];

  /** Writes one record; throws when the write fails. Observers hear of it only once it is on record. */
  write(record: Omit<AuditRecord, 'server'>): void {
    this.seq += 1;
    this.logger.info({ seq: this.seq, server: this.options.server, ...record });
    for (const observer of this.observers) observer(record);
  }

  /** Lets other parts of the server (metrics) follow every record without touching the trail. */
  observe(observer: (record: Omit<AuditRecord, 'server'>) => void): void {
    this.observers.push(observer);
  }

  close(): void {
    if (this.options.file) {
      try {
        fsyncSync(this.fd);
      } finally {
        closeSync(this.fd);
      }
    }
  }
}

function lastMac(file: string): string {
  // Only a regular file has a chain to continue (a device such as /dev/stderr does not).
  if (!existsSync(file) || !statSync(file).isFile()) return GENESIS;
  const lines = readFileSync(file, 'utf8').trimEnd().split('\n').filter(Boolean);
  const last = lines.at(-1);
  if (!last) return GENESIS;
  try {
    return (JSON.parse(last) as { mac?: string }).mac ?? GENESIS;
  } catch {
    return GENESIS;
  }
}

export type VerifyResult =
  | { ok: true; events: number }
  | { ok: false; events: number; brokenAt: number; reason: string };

/** Recomputes the chain; names the first line (1-based) that does not verify. */
export function verifyAuditFile(file: string, key: string): VerifyResult {
  const lines = readFileSync(file, 'utf8')
    .split('\n')
    .filter((l) => l.length > 0);
  let prev = GENESIS;
  for (const [index, line] of lines.entries()) {
    const match = /,"mac":"([A-Za-z0-9_-]+)"}$/.exec(line);
    if (!match?.[1])
      return { ok: false, events: lines.length, brokenAt: index + 1, reason: 'no MAC on this line' };
    const body = `${line.slice(0, match.index)}}`;
    const expected = chainMac(key, prev, body);
    if (expected !== match[1])
      return {
        ok: false,
        events: lines.length,
        brokenAt: index + 1,
        reason: 'MAC mismatch (edited, deleted or reordered)',
      };
    prev = match[1];
  }
  return { ok: true, events: lines.length };
}
