/**
 * The HMAC chain every audit line carries, and the file reads both the writer
 * and the verifier need: each line's MAC covers the previous line's MAC and its
 * own content, so an edit, deletion or reordering breaks the chain from there.
 */
import { createHash, createHmac, type KeyObject } from 'node:crypto';
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';

export const GENESIS = 'genesis';

export function chainMac(key: KeyObject | string, prevMac: string, line: string): string {
  return createHmac('sha256', key).update(prevMac).update('\n').update(line).digest('base64url');
}

/**
 * A short public name for an HMAC key: checkpoints carry it, so a verifier
 * holding a different key (a key file replaced) can say so instead of only
 * reporting a broken chain. One-way: it tells nothing about the key.
 */
export function hmacKeyId(key: KeyObject | string): string {
  return createHmac('sha256', key).update('gatehouse audit key id').digest('base64url').slice(0, 16);
}

export function sha256(text: string): string {
  return createHash('sha256').update(text).digest('base64url');
}

/** Splits a chained line into the content its MAC covers and the MAC. */
export function splitMac(line: string): { body: string; mac: string } | undefined {
  const match = /,"mac":"([A-Za-z0-9_-]+)"}$/.exec(line);
  if (!match?.[1]) return undefined;
  return { body: `${line.slice(0, match.index)}}`, mac: match[1] };
}

export function macOf(line: string | undefined): string {
  if (!line) return GENESIS;
  return splitMac(line)?.mac ?? GENESIS;
}

/**
 * The last complete line before byte `end` of an open file, read backwards in
 * growing windows: an audit file grows without bound, and reading it whole
 * would slow every start and fail past V8's largest string (~512 MB).
 */
export function lineBefore(fd: number, end = fstatSync(fd).size): string | undefined {
  if (end <= 0) return undefined;
  for (let window = 64 * 1024; ; window *= 4) {
    const start = Math.max(0, end - window);
    const buffer = Buffer.alloc(end - start);
    readSync(fd, buffer, 0, buffer.length, start);
    const lines = buffer.toString('utf8').trimEnd().split('\n');
    // The first piece of a window that starts mid-file may be a partial line.
    if (lines.length > 1 || start === 0) return lines.at(-1) || undefined;
  }
}

/** Newlines (= records) between two byte offsets of an open file, counted in chunks. */
export function countLines(fd: number, from: number, to: number): number {
  const buffer = Buffer.alloc(1024 * 1024);
  let count = 0;
  for (let position = from; position < to; ) {
    const read = readSync(fd, buffer, 0, Math.min(buffer.length, to - position), position);
    if (read === 0) break;
    for (let i = buffer.indexOf(10, 0); i !== -1 && i < read; i = buffer.indexOf(10, i + 1)) count += 1;
    position += read;
  }
  return count;
}

/** Runs `body` with the file open for reading. */
export function withFile<T>(file: string, body: (fd: number) => T): T {
  const fd = openSync(file, 'r');
  try {
    return body(fd);
  } finally {
    closeSync(fd);
  }
}
