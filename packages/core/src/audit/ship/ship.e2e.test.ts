/** Shipping through real TLS to a loopback receiver (certificates made by openssl): seconds of CPU, so the end-to-end tier. */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import {
  hasOpenssl,
  makeCerts,
  receivedCopy,
  startReceiver,
  type TestReceiver,
} from '../../testing/syslog.ts';
import { okCall, scratchTrail } from '../../testing/trail.ts';
import { AuditLog, AuditShipError } from '../log.ts';
import { verifyAuditCommand } from '../verify-command.ts';
import { startShipping } from './index.ts';

const scratch = (name: string) => mkdtempSync(join(tmpdir(), `${name}-`));
const quiet = process.env.SHIP_DEBUG
  ? {
      info: (d: object, m: string) => console.log('INFO', m, d),
      warn: (d: object, m: string) => console.log('WARN', m, d),
      error: (d: object, m: string) => console.log('ERR', m, d),
    }
  : { info() {}, warn() {}, error() {} };

if (!hasOpenssl()) console.warn('skipped: openssl is not installed');

describe.skipIf(!hasOpenssl())('shipping to a TLS syslog receiver', () => {
  let receiver: TestReceiver | undefined;
  afterEach(async () => {
    await receiver?.close();
    receiver = undefined;
  });

  it('delivers every record and checkpoint at least once across an outage; the received copy verifies', async () => {
    const certs = makeCerts(scratch('certs'));
    receiver = await startReceiver(certs);
    const port = receiver.port;
    const trail = scratchTrail('ship');
    const spoolDir = join(trail.dir, 'spool');
    const open = () =>
      new AuditLog({
        ...trail,
        replica: 'r1',
        checkpointRecords: 5,
        ship: startShipping(
          {
            syslog: `tls://127.0.0.1:${port}`,
            ca: certs.ca,
            spoolDir,
            spoolMaxBytes: 1 << 20,
            confirmMs: 200,
          },
          { app: 's', replica: 'r1' },
          quiet,
          { syslog: 'S', spoolDir: 'D' },
        ),
      });
    let audit = open();
    for (let i = 0; i < 10; i++) audit.record(okCall(`t${i}`));
    await waitFor(() => receiver!.messages.length >= 10);
    const before = receiver.messages; // what the first receiver got, kept as a SIEM keeps it
    await receiver.close();
    for (let i = 10; i < 20; i++) audit.record(okCall(`t${i}`)); // spooled while the receiver is down
    audit.close();
    await audit.shipped();
    audit = open(); // a restart with the same spool
    for (let i = 20; i < 25; i++) audit.record(okCall(`t${i}`));
    receiver = await startReceiver(certs, port);
    const all = () => [...before, ...receiver!.messages];
    await waitFor(() => {
      const c = receivedCopy(all(), trail.dir);
      if (process.env.SHIP_DEBUG)
        console.log('recv', all().length, c.records.length, c.duplicates, all().slice(-1)[0]?.slice(0, 120));
      return c.records.length === 25;
    });
    audit.close();
    await audit.shipped();
    const copy = receivedCopy(all(), trail.dir);
    expect(copy.records.map((l) => JSON.parse(l).name)).toEqual(
      Array.from({ length: 25 }, (_, i) => `t${i}`),
    );
    const result = verifyAuditCommand(
      { prefix: 'X', server: 's' },
      ['--anchors', copy.anchors, '--public-key', audit.publicKey!, copy.log],
      { X_AUDIT_KEY: audit.key },
    );
    expect(result).toMatchObject({ code: 0 });
  });

  it('refuses a side effect while the spool cannot take records, lets reads go on, and catches up from the log', async () => {
    const certs = makeCerts(scratch('certs'));
    const trail = scratchTrail('ship');
    const port = await freePort(certs);
    // Nobody listens yet: everything stays in a small spool.
    const ship = startShipping(
      {
        syslog: `tls://127.0.0.1:${port}`,
        ca: certs.ca,
        spoolDir: join(trail.dir, 'spool'),
        spoolMaxBytes: 4096,
        confirmMs: 200,
      },
      { app: 's', replica: 'r1' },
      quiet,
      { syslog: 'S', spoolDir: 'D' },
    );
    const audit = new AuditLog({ ...trail, replica: 'r1', ship });
    let refused = 0;
    for (let i = 0; i < 40; i++) {
      audit.record(okCall(`read${i}`)); // reads: always written to the log
      try {
        audit.record(okCall(`write${i}`), 'intent', { durable: true });
      } catch (error) {
        expect(error).toBeInstanceOf(AuditShipError);
        refused += 1;
      }
    }
    expect(refused).toBeGreaterThan(0);
    // The receiver comes back: the spool drains, catches up from the log, and side effects go again.
    receiver = await startReceiver(certs, port);
    await waitFor(() => {
      try {
        audit.record(okCall('write-again'), 'intent', { durable: true });
        return true;
      } catch {
        return false;
      }
    });
    const records = readFileSync(trail.file, 'utf8').trim().split('\n').length;
    await waitFor(() => receivedCopy(receiver!.messages, trail.dir).records.length === records);
    audit.close();
    await audit.shipped();
    const copy = receivedCopy(receiver.messages, trail.dir);
    expect(copy.records.join('\n')).toBe(readFileSync(trail.file, 'utf8').trim());
  });
});

async function freePort(certs: ReturnType<typeof makeCerts>): Promise<number> {
  const probe = await startReceiver(certs);
  await probe.close();
  return probe.port;
}

async function waitFor(condition: () => boolean, timeoutMs = 15_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > until) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}
