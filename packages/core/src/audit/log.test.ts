import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { okCall, scratchTrail } from '../testing/trail.ts';
import { AuditLog, type AuditOptions, verifyAuditFile } from './log.ts';

const record = (name: string) => okCall(name);

/** A log in a folder of its own, its keys and anchors in folders apart from it (never the user's state). */
function place(extra: Partial<AuditOptions> = {}): AuditOptions & { file: string; keyDir: string } {
  return { ...scratchTrail('audit', join('log', 'audit.jsonl')), ...extra };
}

describe('audit log', () => {
  it('creates an owner-only key in a key folder apart from the log, never beside it, and continues the chain across restarts', () => {
    const options = place();
    const first = new AuditLog(options);
    first.record(record('a'));
    first.close();
    expect(existsSync(`${options.file}.key`)).toBe(false);
    expect(statSync(join(options.keyDir, 'audit.key')).mode & 0o777).toBe(0o600);
    expect(statSync(options.keyDir).mode & 0o777).toBe(0o700);
    expect(statSync(join(options.file, '..')).mode & 0o777).toBe(0o700);
    expect(statSync(options.file).mode & 0o777).toBe(0o600);
    const second = new AuditLog(options);
    second.record(record('b'));
    second.close();
    expect(second.key).toBe(first.key);
    expect(verifyAuditFile(options.file, first.key)).toEqual({ ok: true, events: 2 });
  });

  it('still reads the key of an older log kept beside it (and leaves the key folder empty)', () => {
    const options = place();
    const old = new AuditLog({ ...options, key: 'an-older-key-0123456789' });
    old.record(record('a'));
    old.close();
    writeFileSync(`${options.file}.key`, 'an-older-key-0123456789\n', { mode: 0o600 });
    const warnings: string[] = [];
    const log = new AuditLog({
      ...options,
      log: { info() {}, warn: (_d, message) => warnings.push(message), error() {} },
    });
    log.record(record('b'));
    log.close();
    expect(log.key).toBe('an-older-key-0123456789');
    expect(existsSync(join(options.keyDir, 'audit.key'))).toBe(false);
    expect(warnings.join('\n')).toContain('audit key read from beside the log');
    expect(verifyAuditFile(options.file, log.key)).toEqual({ ok: true, events: 2 });
  });

  it('continues the chain from the end of a large file, and past a last line longer than one read', () => {
    const options = place({ key: 'k'.repeat(32) });
    const first = new AuditLog(options);
    // ~1 MB of records before the restart, the last one far longer than the 64 KiB tail read.
    for (let i = 0; i < 3_000; i++) first.record(record(`tool-${i}`));
    first.record(record('x'.repeat(200_000)));
    first.close();
    expect(statSync(options.file).size).toBeGreaterThan(600_000);
    const second = new AuditLog(options);
    second.record(record('after-restart'));
    second.close();
    expect(verifyAuditFile(options.file, 'k'.repeat(32))).toEqual({ ok: true, events: 3_002 });
  });

  it('writes the line format existing trails hold: level and time first, the record, then its MAC', () => {
    const options = place({ key: 'k'.repeat(32) });
    const log = new AuditLog({ ...options, server: 'fmt' });
    log.record(okCall('tool "quoted" \u2028 \ud800'));
    log.close();
    const [line] = readFileSync(options.file, 'utf8').split('\n');
    expect(line).toMatch(
      /^\{"level":30,"time":"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z","seq":1,"server":"fmt","event":"call",.*,"mac":"[\w-]{43}"\}$/s,
    );
    // A lone surrogate is escaped, so the line stays valid UTF-8 JSON.
    expect(line).toContain('\\ud800');
    expect(JSON.parse(line!).name).toBe('tool "quoted" \u2028 \ud800');
  });

  it('names the first broken event after reordering', () => {
    const options = place({ key: 'k'.repeat(32) });
    const log = new AuditLog(options);
    for (const n of ['a', 'b', 'c']) log.record(record(n));
    log.close();
    const [a, b, c] = readFileSync(options.file, 'utf8').trimEnd().split('\n');
    writeFileSync(options.file, `${[a, c, b].join('\n')}\n`);
    expect(verifyAuditFile(options.file, 'k'.repeat(32))).toMatchObject({ ok: false, brokenAt: 2 });
    expect(verifyAuditFile(options.file, 'wrong-key'.repeat(4))).toMatchObject({ ok: false, brokenAt: 1 });
  });
});
