/**
 * Anchors: what the chain alone cannot show — a cut end, an emptied or deleted
 * log, records reordered or re-chained, a replaced key — each found by
 * verify-audit against the signed checkpoints, with what is missing named.
 */
import { createHmac } from 'node:crypto';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../config/env.ts';
import { okCall, scratchTrail } from '../testing/trail.ts';
import { parseCheckpoint, publicKeyFileFor, readCheckpoints, signatureValid } from './anchor.ts';
import { chainMac, GENESIS, splitMac } from './chain.ts';
import { parsePublicKey } from './keys.ts';
import { AuditLog, type AuditOptions } from './log.ts';
import { verifyAuditCommand } from './verify-command.ts';

const record = (name: string) => okCall(name, { name });

type Placed = AuditOptions & { file: string; keyDir: string; anchorDir: string };

function place(extra: Partial<AuditOptions> = {}): Placed {
  return { ...scratchTrail('anchor'), ...extra };
}

/** A log of `n` records, closed cleanly (its last checkpoint vouches for all of them). */
function written(n: number, extra: Partial<AuditOptions> = {}): Placed & { audit: AuditLog } {
  const options = place(extra);
  const log = new AuditLog(options);
  for (let i = 1; i <= n; i++) log.record(record(`tool-${i}`));
  log.close();
  return { ...options, audit: log };
}

const verify = (o: Placed, ...args: string[]) =>
  verifyAuditCommand(
    { prefix: 'T', server: 's' },
    ['--key-dir', o.keyDir, '--anchor-dir', o.anchorDir, ...args, o.file],
    {},
  );

/** What verify-audit answers: its exit code, and `text` somewhere in what it printed. */
const exits = (code: number, text: string) => ({ code, stdout: expect.stringContaining(text) });

const lines = (file: string) => readFileSync(file, 'utf8').trimEnd().split('\n');
const rewrite = (file: string, content: string[]) =>
  writeFileSync(file, content.length ? `${content.join('\n')}\n` : '');

/** Re-chains lines under `key`, as someone holding (or replacing) the key would. */
function rechain(content: string[], key: string): string[] {
  let prev = GENESIS;
  return content.map((line) => {
    const { body } = splitMac(line)!;
    prev = chainMac(key, prev, body);
    return `${body.slice(0, -1)},"mac":"${prev}"}`;
  });
}

describe('checkpoints', () => {
  it('are signed at start, every N records and at close, and verify with the public key alone', () => {
    const o = written(7, { checkpointRecords: 3 });
    const checkpoints = readCheckpoints(o.audit.anchorFile!);
    expect(checkpoints.map((c) => [c?.seq, c?.reason, c?.records])).toEqual([
      [1, 'start', 0],
      [2, 'records', 3],
      [3, 'records', 6],
      [4, 'close', 7],
    ]);
    const publicKey = parsePublicKey(o.audit.publicKey!);
    for (const checkpoint of checkpoints) expect(signatureValid(checkpoint!, publicKey)).toBe(true);
    expect(checkpoints.at(-1)).toMatchObject({
      server: 's',
      file: o.file,
      mac: splitMac(lines(o.file)[6]!)!.mac,
    });
    // The copy beside the anchors is the same key; a forged count fails the signature.
    expect(parsePublicKey(readFileSync(publicKeyFileFor(o.anchorDir, 's'), 'utf8')).equals(publicKey)).toBe(
      true,
    );
    const forged = parseCheckpoint(checkpoints[3]!.line.replace('"records":7', '"records":9'))!;
    expect(signatureValid(forged, publicKey)).toBe(false);
  });

  it('are written on a timer while records wait, and not while idle', async () => {
    const o = place({ checkpointMs: 100, checkpointRecords: 1_000 });
    const log = new AuditLog(o);
    log.record(record('a'));
    await new Promise((resolve) => setTimeout(resolve, 450));
    const reasons = readCheckpoints(log.anchorFile!).map((c) => `${c?.reason}:${c?.records}`);
    log.close();
    expect(reasons).toEqual(['start:0', 'interval:1']);
  });

  it('continue across restarts: one anchor file, one sequence, the count carried on', () => {
    const o = written(2);
    const again = new AuditLog(o);
    again.record(record('after'));
    again.close();
    expect(readCheckpoints(again.anchorFile!).map((c) => [c?.seq, c?.records])).toEqual([
      [1, 0],
      [2, 2],
      [3, 2],
      [4, 3],
    ]);
    expect(verify(o)).toMatchObject(exits(0, 'ok: 3 events, chain intact'));
  });
});

describe('verify-audit against the checkpoints', () => {
  it('passes an intact log, naming the residual window', () => {
    const o = written(5);
    const result = verify(o);
    expect(result).toMatchObject({ code: 0 });
    expect(result.code === 0 && result.stdout).toMatch(
      /^ok: 5 events, chain intact; checkpoint 2 .* vouches for 5, signed/,
    );
    expect(result.code === 0 && result.stdout).toContain('residual window: 0 record(s) after checkpoint 2');
  });

  it('names records written after the last checkpoint as the residual window', () => {
    const o = place({ checkpointRecords: 1_000, checkpointMs: 3_600_000 });
    const log = new AuditLog(o);
    for (const n of ['a', 'b', 'c']) log.record(record(n));
    // As a crash would leave it: no closing checkpoint.
    const result = verify(o);
    log.close();
    expect(result).toMatchObject({ code: 0 });
    expect(result.code === 0 && result.stdout).toContain('residual window: 3 record(s) after checkpoint 1');
  });

  it('fails a truncated log, naming what is missing', () => {
    const o = written(5);
    rewrite(o.file, lines(o.file).slice(0, 3));
    expect(verify(o)).toEqual(
      exits(
        1,
        'broken: log ends at record 3, checkpoint 2 vouches for 5 records (2 missing: cut or emptied)',
      ),
    );
  });

  it('fails an emptied log and a deleted one', () => {
    const o = written(4);
    rewrite(o.file, []);
    expect(verify(o)).toMatchObject(exits(1, 'log ends at record 0, checkpoint 2 vouches for 4'));
    rmSync(o.file);
    expect(verify(o)).toMatchObject(exits(1, 'log ends at record 0'));
  });

  it('fails reordered records, re-chained or not', () => {
    const o = written(4);
    const [a, b, c, d] = lines(o.file);
    rewrite(o.file, [a!, c!, b!, d!]);
    expect(verify(o)).toMatchObject(exits(1, 'broken: event 2 of 4'));
    // Re-chained with the real key: the chain holds, the checkpoint does not.
    rewrite(o.file, rechain([a!, c!, b!, d!], o.audit.key));
    expect(verify(o)).toMatchObject(
      exits(1, 'broken: record 4 is not the one checkpoint 2 vouches for (edited, reordered or re-chained)'),
    );
  });

  it('fails a log edited and re-chained under a new key written to the key file', () => {
    const o = written(4);
    const newKey = createHmac('sha256', 'attacker').digest('base64url');
    const edited = lines(o.file).map((line) => line.replace('tool-2', 'tool-X'));
    rewrite(o.file, rechain(edited, newKey));
    writeFileSync(join(o.keyDir, 'audit.key'), `${newKey}\n`);
    const result = verify(o);
    expect(result).toMatchObject({ code: 1 });
    expect(result.code === 1 && result.stdout).toContain(
      'broken: record 4 is not the one checkpoint 2 vouches for (re-keyed: the audit key is not the one the checkpoint names)',
    );
    // …and the server refuses to continue that log rather than vouch for it.
    expect(() => new AuditLog(o)).toThrow(/no longer matches its anchors/);
  });

  it('fails when only the key file was replaced, saying so', () => {
    const o = written(3);
    writeFileSync(join(o.keyDir, 'audit.key'), `${createHmac('sha256', 'other').digest('base64url')}\n`);
    expect(verify(o)).toMatchObject(
      exits(
        1,
        'broken: event 1 of 3: MAC mismatch (edited, deleted or reordered); the audit key is not the one the checkpoints name (key file replaced?)',
      ),
    );
    expect(() => new AuditLog(o)).toThrow(/the audit key is not the one checkpoint 2 was made with/);
  });

  it('fails forged, removed or foreign-signed checkpoints', () => {
    const o = written(4, { checkpointRecords: 2 });
    const anchors = lines(o.audit.anchorFile!);
    rewrite(o.audit.anchorFile!, [anchors[0]!, anchors[2]!, anchors[3]!]);
    expect(verify(o)).toMatchObject(exits(1, 'checkpoint 3 does not follow checkpoint 1'));
    rewrite(
      o.audit.anchorFile!,
      anchors.map((line) => line.replace('"records":4', '"records":3')),
    );
    expect(verify(o)).toMatchObject(exits(1, 'is not signed by the public key'));
    rewrite(o.audit.anchorFile!, anchors);
    const other = written(1);
    expect(verify(o, '--public-key', other.audit.publicKey!)).toMatchObject(
      exits(1, 'checkpoint 1 is not signed by the public key (the key you gave)'),
    );
    const pinned = verify(o, '--public-key', o.audit.publicKey!);
    expect(pinned).toMatchObject({ code: 0 });
    expect(pinned.code === 0 && pinned.stdout).not.toContain('pin your own copy');
  });

  it('fails a log whose anchors are missing, unless asked to check the chain alone', () => {
    const o = written(2);
    rmSync(o.audit.anchorFile!);
    expect(verify(o)).toMatchObject(exits(1, 'no checkpoints for this log'));
    expect(verify(o, '--chain-only')).toMatchObject(exits(0, 'ok: 2 events, chain intact (chain only'));
  });

  it('checks the replicas’ chains at once, naming the broken one', () => {
    const shared = scratchTrail('replicas', 'audit-{replica}.jsonl');
    const { dir } = shared;
    for (const replica of ['a', 'b']) {
      const log = new AuditLog({ ...shared, replica });
      log.record(record(replica));
      log.close();
    }
    const files = ['a', 'b'].map((r) => join(dir, `audit-${r}.jsonl`));
    const both = () =>
      verifyAuditCommand(
        { prefix: 'T', server: 's' },
        ['--key-dir', shared.keyDir, '--anchor-dir', shared.anchorDir, ...files],
        {},
      );
    const intact = both();
    expect(intact).toMatchObject({ code: 0 });
    const verdicts = intact.code === 0 ? intact.stdout.split('\n').filter((l) => !l.startsWith(' ')) : [];
    expect(verdicts).toEqual([
      expect.stringMatching(new RegExp(`^${files[0]}: ok: 1 events, chain intact`)),
      expect.stringMatching(new RegExp(`^${files[1]}: ok: 1 events, chain intact`)),
      '',
    ]);
    rewrite(files[1]!, []);
    const result = both();
    expect(result).toMatchObject(exits(1, `${files[1]}: broken: log ends at record 0`));
  });

  it('refuses to start on a log cut since its last checkpoint, naming both files', () => {
    const o = written(3);
    rewrite(o.file, lines(o.file).slice(0, 1));
    let error: unknown;
    try {
      new AuditLog(o);
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as Error).message).toMatch(
      /no longer matches its anchors: it holds 1 records, checkpoint 2 .* vouches for 3 records/,
    );
    expect((error as Error).message).toContain(o.audit.anchorFile);
  });
});
