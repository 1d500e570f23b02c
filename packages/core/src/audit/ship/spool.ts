/**
 * The shipping spool: a folder holding one append-only file of messages (one
 * a line) and a cursor naming how much of it the receiver has. Appends are
 * synchronous and synced (fdatasync) before they return, so a message the
 * trail has spooled survives the process being killed; the sender reads from
 * the cursor and moves it only once the receiver has the bytes, so delivery is
 * at least once across outages and restarts.
 *
 * Bounded: when the file would pass `maxBytes`, what was delivered is dropped
 * (the rest copied to the next generation of the file, the cursor switched to
 * it by an atomic rename); when the undelivered part alone would pass it, the
 * append throws a SpoolFullError and nothing is written. The last message is
 * always kept, so a restarted server knows what it last spooled.
 */
import {
  closeSync,
  fdatasyncSync,
  fstatSync,
  ftruncateSync,
  openSync,
  readdirSync,
  readFileSync,
  readSync,
  renameSync,
  unlinkSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { join } from 'node:path';
import { lineBefore } from '../chain.ts';
import { ensureDir } from '../keys.ts';
import { acquireWriterLock, type WriterLock } from '../lock.ts';

export class SpoolFullError extends Error {
  override name = 'SpoolFullError';
}

interface Cursor {
  gen: number;
  offset: number;
}

const fileOf = (dir: string, gen: number) => join(dir, `spool-${gen}.log`);

function writeAll(fd: number, data: Buffer): void {
  for (let offset = 0; offset < data.length; ) offset += writeSync(fd, data, offset);
}

export class Spool {
  readonly dir: string;
  /** Largest size of the spool file, in bytes. */
  readonly limit: number;
  private readonly lock: WriterLock;
  private cursor: Cursor;
  private fd: number;
  private size: number;
  /** Bytes dropped by compaction since start: offsets handed out stay valid across it. */
  private base = 0;

  /** `what` names the variable that chose the folder, for start-up errors. */
  constructor(dir: string, maxBytes: number, what: string) {
    this.dir = dir;
    this.limit = maxBytes;
    ensureDir(dir, what);
    this.lock = acquireWriterLock(join(dir, 'spool'), what);
    try {
      this.cursor = this.readCursor();
      // A generation other than the cursor's is an older one compacted away or a newer one half made.
      for (const name of readdirSync(dir))
        if (/^spool-\d+\.log$/.test(name) && name !== `spool-${this.cursor.gen}.log`)
          unlinkSync(join(dir, name));
      this.fd = openSync(fileOf(dir, this.cursor.gen), 'a+', 0o600);
      this.size = fstatSync(this.fd).size;
      // A cursor past the end (the file replaced by hand): send it all again rather than skip any.
      if (this.cursor.offset > this.size) this.cursor = { ...this.cursor, offset: 0 };
    } catch (error) {
      this.lock.release();
      throw error;
    }
  }

  private readCursor(): Cursor {
    try {
      const value = JSON.parse(readFileSync(join(this.dir, 'cursor.json'), 'utf8')) as Cursor;
      if (Number.isInteger(value.gen) && Number.isInteger(value.offset) && value.offset >= 0) return value;
    } catch {
      // Missing or unreadable: start at the beginning of generation 0 (at least once).
    }
    return { gen: 0, offset: 0 };
  }

  private writeCursor(cursor: Cursor): void {
    const aside = join(this.dir, 'cursor.json.tmp');
    writeFileSync(aside, JSON.stringify(cursor));
    renameSync(aside, join(this.dir, 'cursor.json'));
    this.cursor = cursor;
  }

  /** Offset (stable across compaction) just past the last message spooled. */
  get end(): number {
    return this.base + this.size;
  }

  /** Offset up to which the receiver has everything. */
  get delivered(): number {
    return this.base + this.cursor.offset;
  }

  /** Undelivered bytes. */
  get backlog(): number {
    return this.size - this.cursor.offset;
  }

  /** The last message spooled (kept through compaction), if any. */
  lastMessage(): string | undefined {
    return lineBefore(this.fd, this.size);
  }

  /** Appends messages and syncs them; throws SpoolFullError, or the write's error, having written nothing. */
  append(messages: string[]): void {
    if (messages.length === 0) return;
    const data = Buffer.from(`${messages.join('\n')}\n`);
    if (this.size + data.length > this.limit && this.cursor.offset > 0) this.compact();
    if (this.size + data.length > this.limit)
      throw new SpoolFullError(
        `the audit spool in ${this.dir} is full (${this.backlog} bytes not yet delivered)`,
      );
    try {
      writeAll(this.fd, data);
      fdatasyncSync(this.fd);
    } catch (error) {
      // Half a message would glue itself to the next: cut the file back to where it was.
      try {
        ftruncateSync(this.fd, this.size);
      } catch {
        // The next append reports the file's state.
      }
      throw error;
    }
    this.size += data.length;
  }

  /** Whole messages from `from` on, up to about `maxBytes`; `next` is where the next read starts. */
  read(from: number, maxBytes = 256 * 1024): { messages: string[]; next: number } {
    const start = from - this.base;
    if (start >= this.size) return { messages: [], next: from };
    for (let window = maxBytes; ; window *= 2) {
      const length = Math.min(window, this.size - start);
      const buffer = Buffer.alloc(length);
      const read = readSync(this.fd, buffer, 0, length, start);
      const last = buffer.lastIndexOf(10, read - 1);
      if (last === -1) {
        if (length === this.size - start) return { messages: [], next: from };
        continue; // One message longer than the window: read a larger one.
      }
      const text = buffer.subarray(0, last).toString('utf8');
      return { messages: text.split('\n'), next: from + last + 1 };
    }
  }

  /** Records that the receiver has everything before `offset`. */
  commit(offset: number): void {
    const physical = Math.min(offset - this.base, this.size);
    if (physical <= this.cursor.offset) return;
    this.writeCursor({ ...this.cursor, offset: physical });
    if (physical === this.size && this.size > this.limit / 4) this.compact();
  }

  /** Starts the next generation with what is undelivered (and the last message). */
  private compact(): void {
    const last = this.lastMessage();
    const lastStart = last === undefined ? this.size : this.size - Buffer.byteLength(last) - 1;
    const keepFrom = Math.min(this.cursor.offset, lastStart);
    if (keepFrom <= 0) return;
    const gen = this.cursor.gen + 1;
    const kept = Buffer.alloc(this.size - keepFrom);
    readSync(this.fd, kept, 0, kept.length, keepFrom);
    const fd = openSync(fileOf(this.dir, gen), 'w+', 0o600);
    try {
      writeAll(fd, kept);
      fdatasyncSync(fd);
      this.writeCursor({ gen, offset: this.cursor.offset - keepFrom });
    } catch (error) {
      closeSync(fd);
      throw error;
    }
    closeSync(this.fd);
    unlinkSync(fileOf(this.dir, gen - 1));
    this.fd = fd;
    this.base += keepFrom;
    this.size = kept.length;
  }

  close(): void {
    try {
      closeSync(this.fd);
    } finally {
      this.lock.release();
    }
  }
}
