import { mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { AuditLog, verifyAuditFile } from './log.ts';
import { CallRecord } from './record.ts';

const record = (name: string) =>
  new CallRecord({
    principal: { id: 'p', kind: 'local' },
    kind: 'tool',
    name,
    args: {},
    callId: 'c',
    requestId: 'r',
    decision: 'allowed',
    outcome: 'ok',
  });

describe('audit log', () => {
  it('creates an owner-only key beside the file and continues the chain across restarts', () => {
    const dir = mkdtempSync(join(tmpdir(), 'audit-'));
    const file = join(dir, 'audit.jsonl');
    const first = new AuditLog({ server: 's', file });
    first.record(record('a'));
    first.close();
    expect(statSync(`${file}.key`).mode & 0o777).toBe(0o600);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    const second = new AuditLog({ server: 's', file });
    second.record(record('b'));
    second.close();
    expect(second.key).toBe(first.key);
    expect(verifyAuditFile(file, first.key)).toEqual({ ok: true, events: 2 });
  });

  it('continues the chain from the end of a large file, and past a last line longer than one read', () => {
    const dir = mkdtempSync(join(tmpdir(), 'audit-'));
    const file = join(dir, 'audit.jsonl');
    const key = 'k'.repeat(32);
    const first = new AuditLog({ server: 's', file, key });
    // ~1 MB of records before the restart, the last one far longer than the 64 KiB tail read.
    for (let i = 0; i < 3_000; i++) first.record(record(`tool-${i}`));
    first.record(record('x'.repeat(200_000)));
    first.close();
    expect(statSync(file).size).toBeGreaterThan(600_000);
    const second = new AuditLog({ server: 's', file, key });
    second.record(record('after-restart'));
    second.close();
    expect(verifyAuditFile(file, key)).toEqual({ ok: true, events: 3_002 });
  });

  it('names the first broken event after reordering', () => {
    const dir = mkdtempSync(join(tmpdir(), 'audit-'));
    const file = join(dir, 'audit.jsonl');
    const log = new AuditLog({ server: 's', file, key: 'k'.repeat(32) });
    for (const n of ['a', 'b', 'c']) log.record(record(n));
    log.close();
    const [a, b, c] = readFileSync(file, 'utf8').trimEnd().split('\n');
    writeFileSync(file, `${[a, c, b].join('\n')}\n`);
    expect(verifyAuditFile(file, 'k'.repeat(32))).toMatchObject({ ok: false, brokenAt: 2 });
    expect(verifyAuditFile(file, 'wrong-key'.repeat(4))).toMatchObject({ ok: false, brokenAt: 1 });
  });
});
