/**
 * Opening the trail: one writer per file (a dead writer's lock taken over),
 * and every start-up mistake — a folder that cannot be made, a folder given as
 * the file, an unwritable key — one ConfigError line, never a stack trace.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../config/env.ts';
import { scratchTrail } from '../testing/trail.ts';
import { AuditLog, type AuditOptions } from './log.ts';

function place(extra: Partial<AuditOptions> = {}) {
  return { ...scratchTrail('trail'), envPrefix: 'T', ...extra };
}

/** The one line a start-up mistake becomes. */
function refusal(options: AuditOptions): string {
  try {
    new AuditLog(options).close();
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as Error).message).not.toContain('\n');
    return (error as Error).message;
  }
  throw new Error('expected a ConfigError');
}

const writeLock = (file: string, owner: object) =>
  writeFileSync(`${file}.lock`, `${JSON.stringify(owner)}\n`);

describe('one writer', () => {
  it('locks the file with pid, host and start time, refuses a second writer, and lets go at close', () => {
    const o = place();
    const first = new AuditLog(o);
    expect(JSON.parse(readFileSync(`${o.file}.lock`, 'utf8'))).toMatchObject({
      pid: process.pid,
      host: hostname(),
      started: expect.any(String),
    });
    expect(refusal(o)).toMatch(
      new RegExp(
        `^T_AUDIT_FILE: .*audit.jsonl is being written by process ${process.pid} on ${hostname()} since .*; one writer per file`,
      ),
    );
    first.close();
    expect(existsSync(`${o.file}.lock`)).toBe(false);
    new AuditLog(o).close();
  });

  it('takes over the lock of a dead process, saying so', () => {
    const o = place();
    const dead = spawnSync(process.execPath, ['-e', '']).pid;
    writeLock(o.file, { pid: dead, host: hostname(), started: new Date().toISOString() });
    const warnings: Array<[object, string]> = [];
    const log = new AuditLog({ ...o, log: { info() {}, warn: (d, m) => warnings.push([d, m]), error() {} } });
    expect(JSON.parse(readFileSync(`${o.file}.lock`, 'utf8')).pid).toBe(process.pid);
    log.close();
    expect(warnings).toEqual([
      [expect.objectContaining({ pid: dead }), 'audit lock left by a dead process taken over'],
    ]);
  });

  it('refuses while the lock’s process lives, and a lock from another host', async () => {
    const o = place();
    const child = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 30000)']);
    await new Promise((resolve) => child.once('spawn', resolve));
    try {
      writeLock(o.file, { pid: child.pid, host: hostname(), started: new Date().toISOString() });
      expect(refusal(o)).toContain(`being written by process ${child.pid} on ${hostname()}`);
    } finally {
      child.kill();
    }
    writeLock(o.file, { pid: process.pid, host: 'elsewhere.example', started: new Date().toISOString() });
    expect(refusal(o)).toContain(`being written by process ${process.pid} on elsewhere.example`);
  });

  it('gives each replica a file of its own through {replica}', () => {
    const o = place({ file: join(mkdtempSync(join(tmpdir(), 'trail-')), 'audit-{replica}.jsonl') });
    const a = new AuditLog({ ...o, replica: 'a' });
    const b = new AuditLog({ ...o, replica: 'b' });
    expect([a.file, b.file].map((f) => f?.split('/').at(-1))).toEqual(['audit-a.jsonl', 'audit-b.jsonl']);
    a.close();
    b.close();
  });
});

describe('start-up mistakes are one line', () => {
  it('makes a missing folder (0700), and names one that cannot be made', () => {
    const o = place();
    const nested = join(o.dir, 'a', 'b', 'audit.jsonl');
    new AuditLog({ ...o, file: nested }).close();
    expect(existsSync(nested)).toBe(true);
    writeFileSync(join(o.dir, 'in-the-way'), '');
    expect(refusal({ ...o, file: join(o.dir, 'in-the-way', 'sub', 'audit.jsonl') })).toBe(
      `T_AUDIT_FILE: cannot create the folder ${join(o.dir, 'in-the-way', 'sub')} (${join(o.dir, 'in-the-way')} is a file)`,
    );
    // Not even root can make a folder here (and Node's own recursive mkdir never returns).
    expect(refusal({ ...o, file: '/proc/gatehouse-no-such/audit.jsonl' })).toBe(
      'T_AUDIT_FILE: cannot create the folder /proc/gatehouse-no-such (ENOENT)',
    );
  });

  it('names a folder given as the file', () => {
    const o = place();
    expect(refusal({ ...o, file: o.dir })).toBe(`T_AUDIT_FILE: ${o.dir} is a folder, not a file`);
  });

  it('names a key folder that cannot be made and a key file that cannot be read or written', () => {
    const o = place();
    expect(refusal({ ...o, keyDir: '/proc/gatehouse-keys' })).toBe(
      'T_AUDIT_KEY_DIR: cannot create the folder /proc/gatehouse-keys (ENOENT)',
    );
    mkdirSync(join(o.keyDir, 'audit.key'), { recursive: true });
    expect(refusal(o)).toBe(
      `T_AUDIT_KEY_DIR: cannot read the key file ${join(o.keyDir, 'audit.key')} (EISDIR)`,
    );
    mkdirSync(`${o.file}.key`);
    expect(refusal(o)).toBe(`T_AUDIT_FILE: cannot read the key file ${o.file}.key (EISDIR)`);
    const fresh = place({ key: 'k'.repeat(32) });
    expect(refusal({ ...fresh, keyDir: join('/proc/self/fd', 'keys') })).toMatch(/^T_AUDIT_KEY_DIR: cannot /);
    expect(refusal({ ...fresh, anchorDir: '/proc/gatehouse-anchors' })).toBe(
      'T_AUDIT_ANCHOR_DIR: cannot create the folder /proc/gatehouse-anchors (ENOENT)',
    );
    expect(refusal({ ...fresh, signingKey: 'not a key' })).toBe(
      'T_AUDIT_SIGNING_KEY is invalid: not a PKCS#8 PEM private key',
    );
    // Nothing was left locked by the refusals.
    new AuditLog(fresh).close();
  });
});
