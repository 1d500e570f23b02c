import type { KeyObject } from 'node:crypto';
import { closeSync, fsyncSync, writeSync } from 'node:fs';
import { keyedDigest } from '../define/canonical.ts';
import type { AnchorWriter, CheckpointReason } from './anchor.ts';
import { chainMac, GENESIS } from './chain.ts';
import type { WriterLock } from './lock.ts';
import { type AuditEntry, auditEntry, type CallRecord } from './record.ts';
import type { AuditShipper } from './ship/shipper.ts';
import { openTrail } from './trail.ts';

export { verifyAuditFile } from './verify.ts';

/** Where the trail reports what an operator must know (the server's logger). */
export interface TrailLog {
  info(details: object, message: string): void;
  warn(details: object, message: string): void;
  error(details: object, message: string): void;
}

export interface AuditOptions {
  server: string;
  /** Append-only file; stderr when absent (never stdout). `{replica}` in it becomes the replica's name. */
  file?: string;
  /** HMAC key for the chain and the argument digests; generated into `keyDir` when absent. */
  key?: string;
  /** Removes known secret values from each line before it is chained and written. */
  scrub?: (line: string) => string;
  /** The server's variable prefix, so start-up errors name the variable to fix. */
  envPrefix?: string;
  /** Names this writer's chain (default: the host name). */
  replica?: string;
  /** Generated keys (HMAC key, checkpoint signing key); default under the user's state directory. */
  keyDir?: string;
  /** Signed checkpoints and their public key; default under the user's state directory. */
  anchorDir?: string;
  /** Ed25519 private key (PKCS#8 PEM) signing checkpoints; generated into `keyDir` when absent. */
  signingKey?: string;
  /** A checkpoint after this many records (default 100)… */
  checkpointRecords?: number;
  /** …or this many ms after a record (default 5000), and at start and clean shutdown. */
  checkpointMs?: number;
  log?: TrailLog;
  /** Ships every record and checkpoint off the box (audit/ship/, loaded only when configured). */
  ship?: AuditShipper;
}

/** A side effect's intent could not be spooled for shipping (the spool is full or cannot be written). */
export class AuditShipError extends Error {
  override name = 'AuditShipError';
}

const quiet: TrailLog = { info() {}, warn() {}, error() {} };

/**
 * The audit trail: one JSON line per record, and every
 * line carries an HMAC over the previous line's MAC and its own content, so an
 * edit, deletion or reordering breaks the chain at a point `verifyAuditFile`
 * names. Lines are written synchronously: at once by default, or — once a
 * transport has promised to call `flush()` before it answers anyone
 * (`flushBeforeAnswers`) — together with the other lines of the same tick, so
 * a burst of calls costs one write and a record is still on disk before its
 * answer leaves. Records that must precede a side effect (`durable`) are
 * always flushed at once; a write that fails throws, which the seam turns into
 * AUDIT_UNAVAILABLE before the side effect runs.
 *
 * A regular file gets more (audit/anchor.ts, keys.ts, lock.ts): one writer
 * (`<file>.lock`), keys kept apart from the log, and signed checkpoints in an
 * anchor directory at start, every `checkpointRecords` records or
 * `checkpointMs`, and at close — the only work per record is a counter.
 */
export class AuditLog {
  readonly key: string;
  /** The file written, `{replica}` filled in and its folder resolved; undefined for stderr. */
  readonly file: string | undefined;
  readonly replica: string;
  /** The anchor file and the checkpoints' public key (base64 SPKI), for a regular file. */
  readonly anchorFile: string | undefined;
  readonly publicKey: string | undefined;
  /** The key prepared once: building an HMAC from a string key converts it on every call. */
  private readonly secret: KeyObject;
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
  private readonly lock: WriterLock | undefined;
  private anchor: AnchorWriter | undefined;
  private readonly timer: NodeJS.Timeout | undefined;
  /** Records on disk, the MAC of the last and the file's size: what a checkpoint vouches for. */
  private written = 0;
  private writtenMac = GENESIS;
  private bytes = 0;
  private anchored = 0;
  private anchorFailed = false;
  private readonly trailLog: TrailLog;
  /** The server's name as JSON, as every line carries it. */
  private readonly serverJson: string;

  constructor(options: AuditOptions) {
    this.options = options;
    this.serverJson = JSON.stringify(options.server);
    const log = options.log ?? quiet;
    const trail = openTrail(options, log);
    this.file = trail.file;
    this.replica = trail.replica;
    this.lock = trail.lock;
    this.key = trail.key;
    this.secret = trail.secret;
    this.fd = trail.fd;
    this.syncable = trail.lock !== undefined;
    this.anchor = trail.anchor;
    this.anchorFile = trail.anchor?.file;
    this.publicKey = trail.publicKey;
    this.written = this.anchored = trail.state.records;
    this.prevMac = this.writtenMac = trail.state.mac;
    this.bytes = trail.state.bytes;
    if (this.anchor) {
      this.timer = setInterval(() => {
        if (this.written > this.anchored) this.checkpoint('interval');
      }, options.checkpointMs ?? 5_000);
      this.timer.unref();
    }
    this.trailLog = log;
    this.ship = options.ship;
    this.ship?.attach(
      { file: this.syncable ? this.file : undefined, records: this.written, bytes: this.bytes },
      trail.anchor?.latest,
    );
  }

  private readonly ship: AuditShipper | undefined;
  private shipping: Promise<void> | undefined;

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
    this.flushLines(false);
  }

  /** `durable`: also throws when the lines reach the log but cannot be spooled for shipping. */
  private flushLines(durable: boolean): void {
    if (this.pending.length === 0) return;
    const lines = this.pending;
    const count = lines.length;
    const data = Buffer.from(count === 1 ? lines[0]! : lines.join(''));
    this.pending = [];
    try {
      for (let offset = 0; offset < data.length; ) offset += writeSync(this.fd, data, offset);
    } catch (error) {
      // The file no longer holds what the counters say: no more checkpoints until a restart recounts.
      if (this.anchor) this.stopAnchoring(error);
      throw error;
    }
    const first = this.written + 1;
    const from = this.bytes;
    this.written += count;
    this.writtenMac = this.prevMac;
    this.bytes += data.length;
    const spooled = this.ship ? this.ship.records(lines, first, from) : true;
    if (this.anchor && this.written - this.anchored >= (this.options.checkpointRecords ?? 100))
      this.checkpoint('records');
    if (!spooled && durable)
      throw new AuditShipError('the audit record is on the box but could not be spooled for shipping');
  }

  /** Signs and appends a checkpoint of what is on disk; a failure is logged once, never thrown at a caller. */
  private checkpoint(reason: CheckpointReason): void {
    if (!this.anchor) return;
    try {
      const made = this.anchor.write(
        { records: this.written, mac: this.writtenMac, bytes: this.bytes },
        reason,
      );
      this.ship?.checkpoint(made.line, made.seq);
      this.anchored = this.written;
      this.anchorFailed = false;
    } catch (error) {
      if (!this.anchorFailed)
        this.trailLog.error(
          { err: error, anchors: this.anchor.file },
          'audit checkpoint could not be written',
        );
      this.anchorFailed = true;
    }
  }

  private stopAnchoring(error: unknown): void {
    this.trailLog.error({ err: error }, 'audit write failed: no more checkpoints until the server restarts');
    this.anchor?.close();
    this.anchor = undefined;
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

  /** The hash of the rules in force (a Cedar policy file), written into every record when set. */
  policy: string | undefined;
  private readonly observers: Array<(record: AuditEntry) => void> = [];
  private readonly digestArgs = (args: unknown): string => this.digest(args);

  /**
   * Builds the record of one call (audit/record.ts, the one builder) and writes
   * it: `intent` before a side effect, `call` when the request is answered.
   * Throws when the write fails; see `write`.
   */
  record(call: CallRecord, event: 'call' | 'intent' = 'call', options: { durable?: boolean } = {}): void {
    this.write(auditEntry(call, event, this.digestArgs, { policy: this.policy }), options);
  }

  /**
   * Chains one record and writes it — at once when `durable` or when no
   * transport flushes before answering; throws when that write fails.
   */
  private write(record: AuditEntry, options: { durable?: boolean }): void {
    if (options.durable && this.ship && !this.ship.ready(this.bytes))
      throw new AuditShipError('the audit spool cannot take records: side effects wait until it can');
    this.seq += 1;
    this.chain(record);
    if (!this.grouped || options.durable) this.flushLines(options.durable === true);
    else if (!this.flushScheduled) {
      this.flushScheduled = true;
      setImmediate(this.scheduledFlush);
    }
    for (const observer of this.observers) observer(record);
  }

  /**
   * Serialises, scrubs and chains one record into `pending`. The line is the
   * one pino wrote before (`level` 30 and an ISO `time` first, then the
   * record), built directly: the trail needs no logger, and pino's per-line
   * work was a twentieth of a call's CPU on the echo path.
   */
  private chain(record: AuditEntry): void {
    const line = `{"level":30,"time":"${new Date().toISOString()}","seq":${this.seq},"server":${this.serverJson},${JSON.stringify(record).slice(1)}`;
    const body = this.options.scrub ? this.options.scrub(line) : line;
    const mac = chainMac(this.secret, this.prevMac, body);
    this.pending.push(`${body.slice(0, -1)},"mac":"${mac}"}\n`);
    this.prevMac = mac;
  }

  /** Lets other parts of the server (metrics) follow every record without touching the trail. */
  observe(observer: (record: AuditEntry) => void): void {
    this.observers.push(observer);
  }

  /** Flushes, syncs, writes the closing checkpoint and lets go of the file and its lock. */
  close(): void {
    if (this.timer) clearInterval(this.timer);
    try {
      this.flush();
      if (this.syncable) fsyncSync(this.fd);
      this.checkpoint('close');
    } finally {
      try {
        this.anchor?.close();
      } finally {
        this.anchor = undefined;
        if (this.file) closeSync(this.fd);
        this.lock?.release();
        this.shipping = this.ship?.close();
      }
    }
  }

  /** Resolves once shipping has delivered what it could at close (at once when not shipping). */
  async shipped(): Promise<void> {
    await this.shipping;
  }
}
