import { createHmac, createSecretKey, type KeyObject, randomBytes } from 'node:crypto';
import {
  closeSync,
  existsSync,
  fstatSync,
  fsyncSync,
  openSync,
  readFileSync,
  readSync,
  statSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { pino } from 'pino';
import { keyedDigest } from '../define/canonical.ts';
import { type AuditEntry, auditEntry, type CallRecord } from './record.ts';

export interface AuditOptions {
  server: string;
  /** Append-only file; stderr when absent (never stdout). */
  file?: string;
  /** HMAC key for the chain and the argument digests. */
  key?: string;
  /** Removes known secret values from each line before it is chained and written. */
  scrub?: (line: string) => string;
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

function chainMac(key: KeyObject | string, prevMac: string, line: string): string {
  return createHmac('sha256', key).update(prevMac).update('\n').update(line).digest('base64url');
}

/**
 * The audit trail. Built on pino for its serialisation and time stamps; every
 * line carries an HMAC over the previous line's MAC and its own content, so an
 * edit, deletion or reordering breaks the chain at a point `verifyAuditFile`
 * names. Lines are written synchronously: at once by default, or — once a
 * transport has promised to call `flush()` before it answers anyone
 * (`flushBeforeAnswers`) — together with the other lines of the same tick, so
 * a burst of calls costs one write and a record is still on disk before its
 * answer leaves. Records that must precede a side effect (`durable`) are
 * always flushed at once; a write that fails throws, which the seam turns into
 * AUDIT_UNAVAILABLE before the side effect runs.
 */
export class AuditLog {
  readonly key: string;
  /** The key prepared once: building an HMAC from a string key converts it on every call. */
  private readonly secret: KeyObject;
  private readonly logger: pino.Logger;
  private readonly fd: number;
  /** Only a regular file can be synced (a device given as the file, such as /dev/full, cannot). */
  private readonly syncable: boolean;
  private prevMac: string;
  private seq = 0;
  private readonly options: AuditOptions;
  /** Chained lines not yet on disk (only while a transport flushes before answering). */
  private pending: string[] = [];
  private grouped = false;
  private flushScheduled = false;

  constructor(options: AuditOptions) {
    this.options = options;
    this.key = resolveAuditKey(options);
    this.secret = createSecretKey(Buffer.from(this.key, 'utf8'));
    this.fd = options.file ? openSync(options.file, 'a', 0o600) : 2;
    this.syncable = options.file !== undefined && fstatSync(this.fd).isFile();
    this.prevMac = options.file ? lastMac(options.file) : GENESIS;
    const sink = {
      write: (line: string) => {
        const body = (this.options.scrub ? this.options.scrub(line) : line).trimEnd();
        const mac = chainMac(this.secret, this.prevMac, body);
        this.pending.push(`${body.slice(0, -1)},"mac":"${mac}"}\n`);
        this.prevMac = mac;
      },
    };
    this.logger = pino({ base: null, messageKey: 'msg', timestamp: pino.stdTimeFunctions.isoTime }, sink);
  }

  /**
   * For a transport that will call the returned function before every answer
   * it sends: from then on records of the same tick share one write. A record
   * nobody answers (a notification's) is flushed on the next turn of the event
   * loop. The returned flush never throws; a failed write goes to `onError`.
   */
  flushBeforeAnswers(onError: (error: unknown) => void): () => void {
    this.grouped = true;
    return () => {
      try {
        this.flush();
      } catch (error) {
        onError(error);
      }
    };
  }

  /** Writes every chained line still in memory; throws when the write fails (the lines are then lost, and the chain shows the gap). */
  flush(): void {
    if (this.pending.length === 0) return;
    const data = Buffer.from(this.pending.length === 1 ? this.pending[0]! : this.pending.join(''));
    this.pending = [];
    for (let offset = 0; offset < data.length; ) offset += writeSync(this.fd, data, offset);
  }

  private readonly scheduledFlush = (): void => {
    this.flushScheduled = false;
    try {
      this.flush();
    } catch {
      // Reported by the next writer that flushes (the seam or the transport).
    }
  };

  digest(args: unknown): string {
    return keyedDigest(this.secret, args);
  }

  private readonly observers: Array<(record: AuditEntry) => void> = [];
  private readonly digestArgs = (args: unknown): string => this.digest(args);

  /**
   * Builds the record of one call (audit/record.ts, the one builder) and writes
   * it: `intent` before a side effect, `call` when the request is answered.
   * Throws when the write fails; see `write`.
   */
  record(call: CallRecord, event: 'call' | 'intent' = 'call', options: { durable?: boolean } = {}): void {
    this.write(auditEntry(call, event, this.digestArgs), options);
  }

  /**
   * Chains one record and writes it — at once when `durable` or when no
   * transport flushes before answering; throws when that write fails.
   */
  private write(record: AuditEntry, options: { durable?: boolean }): void {
    this.seq += 1;
    this.logger.info({ seq: this.seq, server: this.options.server, ...record });
    if (!this.grouped || options.durable) this.flush();
    else if (!this.flushScheduled) {
      this.flushScheduled = true;
      setImmediate(this.scheduledFlush);
    }
    for (const observer of this.observers) observer(record);
  }

  /** Lets other parts of the server (metrics) follow every record without touching the trail. */
  observe(observer: (record: AuditEntry) => void): void {
    this.observers.push(observer);
  }

  close(): void {
    try {
      this.flush();
      if (this.syncable) fsyncSync(this.fd);
    } finally {
      if (this.options.file) closeSync(this.fd);
    }
  }
}

/**
 * The MAC of the file's last line, read from the end: an audit file grows
 * without bound, and reading it whole would slow every start and fail past
 * V8's largest string (~512 MB).
 */
function lastMac(file: string): string {
  // Only a regular file has a chain to continue (a device such as /dev/stderr does not).
  if (!existsSync(file) || !statSync(file).isFile()) return GENESIS;
  const fd = openSync(file, 'r');
  try {
    const size = fstatSync(fd).size;
    for (let window = 64 * 1024; ; window *= 4) {
      const start = Math.max(0, size - window);
      const buffer = Buffer.alloc(size - start);
      readSync(fd, buffer, 0, buffer.length, start);
      const lines = buffer.toString('utf8').trimEnd().split('\n');
      // The first piece of a window that starts mid-file may be a partial line.
      if (lines.length > 1 || start === 0) return macOf(lines.at(-1));
    }
  } finally {
    closeSync(fd);
  }
}

function macOf(line: string | undefined): string {
  if (!line) return GENESIS;
  try {
    return (JSON.parse(line) as { mac?: string }).mac ?? GENESIS;
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
