/** verify-audit's own arguments: the keys and anchors it is pointed at by flags or variables, and usage errors (exit 2). */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { okCall, scratchTrail } from '../testing/trail.ts';
import { AuditLog } from './log.ts';
import { verifyAuditCommand } from './verify-command.ts';

function trail() {
  const options = { ...scratchTrail('verify'), key: 'a-given-audit-key-0123456789' };
  const log = new AuditLog(options);
  log.record(okCall('t'));
  log.close();
  return { ...options, publicKey: log.publicKey!, anchorFile: log.anchorFile! };
}

const run = (args: string[], env: NodeJS.ProcessEnv = {}) =>
  verifyAuditCommand({ prefix: 'T', server: 's' }, args, env);

describe('verify-audit arguments', () => {
  it('takes the key, anchor folder and pinned public key from variables (and <NAME>_FILE)', () => {
    const t = trail();
    writeFileSync(join(t.dir, 'key'), `${t.key}\n`);
    writeFileSync(join(t.dir, 'pub'), t.publicKey);
    const result = run([t.file], {
      T_AUDIT_KEY_FILE: join(t.dir, 'key'),
      T_AUDIT_ANCHOR_DIR: t.anchorDir,
      T_AUDIT_PUBLIC_KEY_FILE: join(t.dir, 'pub'),
    });
    expect(result).toMatchObject({
      code: 0,
      stdout: expect.stringMatching(/^ok: 1 events, chain intact; .*, signed\n/),
    });
    // The same by flags, the anchor file named directly (a log moved elsewhere).
    expect(
      run(['--anchors', t.anchorFile, '--public-key', join(t.dir, 'pub'), t.file], { T_AUDIT_KEY: t.key }),
    ).toMatchObject({
      code: 0,
    });
  });

  it('refuses usage mistakes with one line (exit 2)', () => {
    const t = trail();
    expect(run([])).toEqual({
      code: 2,
      error: expect.stringContaining('verify-audit needs the audit file path'),
    });
    expect(run(['--anchors', t.anchorFile, t.file, t.file])).toEqual({
      code: 2,
      error: 'verify-audit: --anchors names the anchor file of one log; give one file with it',
    });
    expect(run(['--key-dir', join(t.dir, 'none'), t.file])).toEqual({
      code: 2,
      error: expect.stringContaining(`verify-audit: no audit key for ${t.file}: set T_AUDIT_KEY`),
    });
    expect(run(['--public-key', 'not-a-key', t.file], { T_AUDIT_KEY: t.key })).toEqual({
      code: 2,
      error: '--public-key: not an Ed25519 public key (PEM, or the base64 line the server printed)',
    });
    expect(run([t.dir], { T_AUDIT_KEY: t.key })).toEqual({
      code: 2,
      error: `verify-audit: ${t.dir} is a folder, not an audit file`,
    });
    expect(run(['--no-such-flag', t.file])).toMatchObject({ code: 2 });
  });
});
