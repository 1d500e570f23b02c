/**
 * Shipping the trail off the box: every chained line the log writes (and
 * every signed checkpoint) becomes an RFC 5424 message in the durable spool,
 * which the sender delivers to syslog over TLS. The trail calls `records`
 * right after its own write and before the call is answered, so what a client
 * saw answered is in the spool, synced.
 *
 * When the spool cannot take a record (full after a long outage, disk full),
 * the trail goes on writing its log and answering reads, while `ready()` is
 * false and side effects are refused; the spool catches up from the log file
 * as soon as it can take the backlog again.
 */
import { closeSync, openSync, readSync } from 'node:fs';
import type { TrailLog } from '../log.ts';
import type { SyslogSender } from './sender.ts';
import { type Spool, SpoolFullError } from './spool.ts';
import { formatMessage, type MessageOrigin, parseMessage, type ShipItem } from './syslog.ts';

/** What the trail holds when shipping attaches: its file (undefined for stderr) and how far it goes. */
export interface TrailEnd {
  file: string | undefined;
  records: number;
  bytes: number;
}

const BATCH_BYTES = 1024 * 1024;

/** Byte offset just past line `n` (0 → 0) of an open file; undefined when it has fewer lines. */
function offsetAfterLine(fd: number, n: number): number | undefined {
  if (n === 0) return 0;
  const buffer = Buffer.alloc(BATCH_BYTES);
  let count = 0;
  for (let position = 0; ; ) {
    const read = readSync(fd, buffer, 0, buffer.length, position);
    if (read === 0) return undefined;
    for (let i = buffer.indexOf(10); i !== -1 && i < read; i = buffer.indexOf(10, i + 1))
      if (++count === n) return position + i + 1;
    position += read;
  }
}

export class AuditShipper {
  /** Records from `seq` (at byte `byte` of the log) on are in the log but not in the spool. */
  private behind: { seq: number; byte: number } | undefined;
  private file: string | undefined;

  private readonly spool: Spool;
  private readonly sender: SyslogSender;
  private readonly origin: MessageOrigin;
  private readonly log: TrailLog;

  constructor(spool: Spool, sender: SyslogSender, origin: MessageOrigin, log: TrailLog) {
    this.spool = spool;
    this.sender = sender;
    this.origin = origin;
    this.log = log;
  }

  private message(item: ShipItem): string {
    return formatMessage(item, this.origin);
  }

  /** Through which record the spool holds this chain (the last message, or the records its last checkpoint vouches for). */
  private spooledThrough(): number | undefined {
    const last = this.spool.lastMessage();
    const parsed = last === undefined ? undefined : parseMessage(last);
    if (!parsed) return undefined;
    if (parsed.kind === 'audit') return parsed.seq;
    return (JSON.parse(parsed.line) as { records: number }).records;
  }

  /** Called once the trail is open: the spool catches up with records the log has and it lacks. */
  attach(trail: TrailEnd, startCheckpoint: { seq: number; line: string } | undefined): void {
    this.file = trail.file;
    const through = this.spooledThrough() ?? 0;
    if (trail.file && through < trail.records) {
      const byte = this.withLog((fd) => offsetAfterLine(fd, through));
      if (byte !== undefined) this.behind = { seq: through + 1, byte };
      this.catchUp(trail.bytes);
    }
    if (startCheckpoint && !this.behind) this.checkpoint(startCheckpoint.line, startCheckpoint.seq);
    this.sender.wake();
  }

  private withLog<T>(body: (fd: number) => T): T | undefined {
    if (!this.file) return undefined;
    const fd = openSync(this.file, 'r');
    try {
      return body(fd);
    } finally {
      closeSync(fd);
    }
  }

  /** Spools the log's lines from `behind` up to byte `end`; true when the spool holds them all. */
  private catchUp(end: number): boolean {
    const behind = this.behind;
    if (!behind) return true;
    if (!this.file) {
      // A trail on stderr cannot be read back: what the spool missed is reported, and shipping goes on.
      this.log.error(
        { from: behind.seq },
        'audit records could not be spooled and cannot be read back (no audit file)',
      );
      this.behind = undefined;
      return true;
    }
    try {
      this.withLog((fd) => {
        let buffer = Buffer.alloc(BATCH_BYTES);
        while (behind.byte < end) {
          const length = Math.min(buffer.length, end - behind.byte);
          const read = readSync(fd, buffer, 0, length, behind.byte);
          const last = buffer.lastIndexOf(10, read - 1);
          if (last === -1) {
            if (read < buffer.length) break; // The log ends in half a line: nothing more to ship.
            buffer = Buffer.alloc(buffer.length * 2);
            continue;
          }
          // A few records at a time: a spool with little room takes what it can while the sender drains it.
          const lines = buffer.subarray(0, last).toString('utf8').split('\n');
          const groupBytes = Math.min(64 * 1024, this.spool.limit / 8);
          for (let i = 0; i < lines.length; ) {
            const group: string[] = [];
            let bytes = 0;
            while (i < lines.length && (group.length === 0 || bytes < groupBytes)) {
              group.push(this.message({ kind: 'audit', seq: behind.seq + group.length, line: lines[i]! }));
              bytes += Buffer.byteLength(lines[i]!) + 1;
              i += 1;
            }
            this.spool.append(group);
            behind.seq += group.length;
            behind.byte += bytes;
          }
        }
      });
    } catch (error) {
      if (!(error instanceof SpoolFullError))
        this.log.warn({ err: error, from: behind.seq }, 'audit spool still cannot take the backlog');
      this.sender.wake();
      return false;
    }
    this.log.info({ through: behind.seq - 1 }, 'audit spool caught up with the log');
    this.behind = undefined;
    this.sender.wake();
    return true;
  }

  /**
   * Spools lines the log has just written (records `first`… starting at byte `from`
   * of the log); false when they could not be spooled (they will be, from the log).
   */
  records(lines: readonly string[], first: number, from: number): boolean {
    if (this.behind && !this.catchUp(from)) {
      return false;
    }
    try {
      this.spool.append(
        lines.map((line, i) => this.message({ kind: 'audit', seq: first + i, line: line.trimEnd() })),
      );
    } catch (error) {
      this.log.error(
        { err: error, from: first },
        'audit records could not be spooled for shipping: side effects are refused until they can',
      );
      this.behind = { seq: first, byte: from };
      return false;
    }
    this.sender.wake();
    return true;
  }

  /** Spools a signed checkpoint; one that cannot be spooled is reported (the next one vouches for more). */
  checkpoint(line: string, seq: number): void {
    if (this.behind) return;
    try {
      this.spool.append([this.message({ kind: 'checkpoint', seq, line })]);
      this.sender.wake();
    } catch (error) {
      this.log.warn({ err: error, checkpoint: seq }, 'audit checkpoint could not be spooled for shipping');
    }
  }

  /** Whether the spool holds every record so far (catching up first when it can); `end` is the log's size. */
  ready(end: number): boolean {
    return this.behind === undefined || this.catchUp(end);
  }

  /** Delivers what it can within `timeoutMs`, then lets go of the spool. */
  async close(timeoutMs?: number): Promise<void> {
    try {
      await this.sender.close(timeoutMs);
    } finally {
      this.spool.close();
    }
  }
}
