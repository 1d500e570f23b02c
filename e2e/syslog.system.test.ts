/**
 * The trail shipped off the box to a real rsyslog (Debian's rsyslog + rsyslog-gnutls, started here
 * on loopback with its own config and openssl-made certificates, imtcp over TLS). A built server
 * (stdio) answers a bounded run of calls while rsyslog is stopped for a while and started again.
 * Afterwards, with duplicates dropped by sequence, rsyslog holds exactly the calls, in order, and
 * `verify-audit` (the built binary) passes on the received copy and its received checkpoints.
 *
 * .ci/run installs rsyslog and fails when this is skipped under CI=true.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connectV2, makeCerts, ok, readAudit, receivedCopy } from '@gatehouse/core/testing';
import { afterAll, describe, expect, it } from 'vitest';
import { createRsyslog, type Rsyslog, rsyslogMissing } from './src/rsyslog.ts';
import { type E2eHarness, SERVERS, startHarness } from './src/servers.ts';

const missing = rsyslogMissing();
if (missing) console.warn(`syslog.system.test.ts skipped: ${missing}`);

const OPS = SERVERS.find((s) => s.name === 'platform-ops')!;
const CALLS = 240;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe.skipIf(missing !== undefined)('the trail shipped to a real rsyslog over TLS', () => {
  let h: E2eHarness | undefined;
  let syslog: Rsyslog | undefined;
  const dir = mkdtempSync(join(tmpdir(), 'gatehouse-rsyslog-'));

  afterAll(async () => {
    await syslog?.stop();
    await h?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('survives rsyslog stopped under load: exactly the calls, in order, and the received copy verifies', async () => {
    mkdirSync(join(dir, 'certs'));
    const certs = makeCerts(join(dir, 'certs'));
    syslog = await createRsyslog(join(dir, 'rsyslog'), certs);
    await syslog.start();
    h = await startHarness(OPS, 'info');
    const env = h.env({
      [`${OPS.prefix}_AUDIT_SYSLOG`]: `tls://127.0.0.1:${syslog.port}`,
      [`${OPS.prefix}_AUDIT_SYSLOG_CA_FILE`]: certs.caFile,
      [`${OPS.prefix}_AUDIT_SPOOL_DIR`]: join(dir, 'spool'),
      [`${OPS.prefix}_AUDIT_CHECKPOINT_RECORDS`]: '25',
    });
    const auditFile = env[`${OPS.prefix}_AUDIT_FILE`]!;
    const connected = await connectV2({ bin: OPS.bin, env });
    const answered: string[] = [];
    let atStop = 0;
    try {
      for (let i = 0; i < CALLS; i++) {
        if (i === 60) {
          await syslog.stop(); // down for the next 120 calls (and at least 1.5 s)
          atStop = syslog.messages().length;
        }
        if (i === 180) {
          await sleep(1_500);
          // Nothing arrived while it was down: those records waited in the spool.
          expect(syslog.messages().length).toBe(atStop);
          await syslog.start();
        }
        const result = await connected.client.callTool(OPS.call!);
        ok(result);
        answered.push(String(i));
      }
      // Bounded wait, with the server still running, for the spool to drain after the outage.
      const written = readFileSync(auditFile, 'utf8').trim().split('\n').length;
      for (let i = 0; i < 300 && receivedCopy(syslog.messages(), dir).records.length < written; i++)
        await sleep(100);
    } finally {
      await connected.close();
    }
    expect(answered).toHaveLength(CALLS);
    const local = readFileSync(auditFile, 'utf8').trim().split('\n');
    // Bounded wait for the spool to drain (the server has exited: its closing checkpoint is spooled).
    for (let i = 0; i < 200 && receivedCopy(syslog.messages(), dir).records.length < local.length; i++)
      await sleep(100);
    const copy = receivedCopy(syslog.messages(), dir);
    expect(copy.records).toEqual(local);
    const calls = readAudit(copy.log);
    expect(calls).toHaveLength(CALLS);
    expect(calls.every((c) => c.name === OPS.call!.name && c.outcome === 'ok')).toBe(true);
    const ids = calls.map((c) => Number(c.requestId));
    expect(ids).toEqual([...ids].sort((a, b) => a - b));
    const report = execFileSync(
      process.execPath,
      [
        OPS.bin,
        'verify-audit',
        '--key-dir',
        env[`${OPS.prefix}_AUDIT_KEY_DIR`]!,
        '--anchors',
        copy.anchors,
        '--public-key',
        join(env[`${OPS.prefix}_AUDIT_ANCHOR_DIR`]!, `${OPS.name}.anchor-key.pub.pem`),
        copy.log,
      ],
      { encoding: 'utf8', env: { PATH: process.env.PATH ?? '' } },
    );
    expect(report).toMatch(/^ok: \d+ events, chain intact; checkpoint \d+/);
  }, 120_000);
});
