/**
 * Hostile upstream answers beyond resilience.test.ts: `Retry-After` given as
 * an HTTP-date (matrix #25) and a compression bomb (matrix #29). A real v2
 * client drives the fixture server in this process; the upstream is the
 * sandbox on loopback with its fault switches.
 */
import { GZIP_BOMB_INFLATED_BYTES } from '@gatehouse/sandbox';
import { describe, expect, it } from 'vitest';
import { fixture, STATUS_CALL, STATUS_PATH, statusRequests } from '../testing/fixture/harness.ts';
import { useHarness } from '../testing/fixture/per-file.ts';
import { connectV2, errorOf, readAudit, withClient } from '../testing/index.ts';

const MIB = 1024 * 1024;

const h = useHarness({ clearFaults: true });

/** The v2 client (no pinned revision, no elicitation), as a plain host connects. */
const connect = (env: Record<string, string>) =>
  connectV2({ server: fixture, env, era: 'legacy', approval: 'none' });

/** Peak resident set size of this process so far, in bytes (a high-water mark, so no sampling). */
const peakRss = () => process.resourceUsage().maxRSS * 1024;

/** An IMF-fixdate (RFC 9110 §5.6.7) `seconds` or more from now, on a whole second. */
const httpDateIn = (seconds: number) =>
  new Date(Math.ceil((Date.now() + seconds * 1000) / 1000) * 1000).toUTCString();

describe('Retry-After as an HTTP-date', () => {
  // A deadline long enough to tell "waited as told" and "failed fast" apart from "ran out of time".
  const SLOW = { FIXTURE_TIMEOUT_MS: '2000', FIXTURE_DEADLINE_MS: '10000', FIXTURE_RETRIES: '2' };

  it('honours an HTTP-date within the deadline: one retry, after the date', async () => {
    await withClient(connect(h.env(SLOW)), async (c) => {
      // Three seconds out: the first attempt may itself start a second late on a loaded machine.
      const date = httpDateIn(3);
      expect(date).toMatch(/^[A-Z][a-z]{2}, \d{2} [A-Z][a-z]{2} \d{4} \d{2}:\d{2}:\d{2} GMT$/);
      await h.control.setFaults([{ path: STATUS_PATH, status: 503, retryAfter: date, times: 1 }]);
      await h.control.clearRequests();
      const result = await c.client.callTool(STATUS_CALL);
      expect(result.isError).toBeFalsy();
      const calls = await statusRequests(h);
      expect(calls.map((r) => r.status)).toEqual([503, 200]);
      // The date was 3-4 s away when set: far beyond the client's own first back-off (at most 300 ms).
      expect(Date.parse(calls[1]!.at) - Date.parse(calls[0]!.at)).toBeGreaterThanOrEqual(1_500);
      expect(Date.parse(calls[1]!.at)).toBeGreaterThanOrEqual(Date.parse(date) - 1_000);
    });
  });

  it('fails fast on an HTTP-date beyond the deadline: no second attempt, the wait reported', async () => {
    const env = h.env(SLOW);
    await withClient(connect(env), async (c) => {
      await h.control.setFaults([{ path: STATUS_PATH, status: 503, retryAfter: httpDateIn(120) }]);
      await h.control.clearRequests();
      const started = Date.now();
      const result = await c.client.callTool(STATUS_CALL);
      const error = errorOf(result) as { retryAfterSeconds?: number } | undefined;
      expect(error).toMatchObject({ code: 'UPSTREAM_UNAVAILABLE', retryable: true });
      // The wait the upstream asked for is passed on to the caller (about 120 s).
      expect(error?.retryAfterSeconds).toBeGreaterThan(100);
      expect(error?.retryAfterSeconds).toBeLessThanOrEqual(121);
      // Generous bound: neither the 120 s the upstream asked for nor the 10 s deadline.
      expect(Date.now() - started).toBeLessThan(5_000);
      expect(await statusRequests(h)).toHaveLength(1);
      expect(readAudit(env.FIXTURE_AUDIT_FILE).at(-1)).toMatchObject({
        outcome: 'error',
        errorCode: 'UPSTREAM_UNAVAILABLE',
      });
    });
  });

  it('retries at once on an HTTP-date in the past, and treats an unparseable one as absent', async () => {
    await withClient(connect(h.env(SLOW)), async (c) => {
      for (const retryAfter of ['Wed, 21 Oct 2015 07:28:00 GMT', 'soon, probably']) {
        await h.control.setFaults([{ path: STATUS_PATH, status: 503, retryAfter, times: 1 }]);
        await h.control.clearRequests();
        const result = await c.client.callTool(STATUS_CALL);
        expect(result.isError, retryAfter).toBeFalsy();
        expect((await statusRequests(h)).map((r) => r.status)).toEqual([503, 200]);
      }
    });
  });
});

describe('compression bomb', () => {
  it('answers a gzip body that inflates past the size cap with UPSTREAM_BAD_RESPONSE, without inflating it, and keeps serving', {
    timeout: 60_000,
  }, async () => {
    // The default cap (5 MiB) and no retries: the bomb is about 1 MiB on the wire, over 1 GiB inflated.
    const env = h.env({ FIXTURE_RETRIES: '0', FIXTURE_TIMEOUT_MS: '15000', FIXTURE_DEADLINE_MS: '20000' });
    await withClient(connect(env), async (c) => {
      expect(GZIP_BOMB_INFLATED_BYTES).toBeGreaterThan(1024 * MIB);
      const before = peakRss();
      for (let i = 0; i < 3; i++) {
        await h.control.setFaults([{ path: STATUS_PATH, body: 'gzip-bomb', times: 1 }]);
        const bad = await c.client.callTool(STATUS_CALL);
        expect(errorOf(bad)).toMatchObject({ code: 'UPSTREAM_BAD_RESPONSE', retryable: false });
        // The streaming cap (inflated bytes), not the declared Content-Length (compressed bytes).
        expect(errorOf(bad)?.message).toContain(`larger than the ${5 * MIB}-byte limit`);
        const good = await c.client.callTool(STATUS_CALL);
        expect(good.isError).toBeFalsy();
      }
      // Had any of the three bombs been inflated whole, this process's peak would have grown by over 1 GiB.
      expect(peakRss() - before).toBeLessThan(256 * MIB);
      expect((await h.control.requests()).filter((r) => r.fault === 'gzip-bomb')).toHaveLength(3);
      const events = readAudit(env.FIXTURE_AUDIT_FILE).filter((e) => e.name === STATUS_CALL.name);
      expect(events.map((e) => e.errorCode ?? e.outcome)).toEqual([
        'UPSTREAM_BAD_RESPONSE',
        'ok',
        'UPSTREAM_BAD_RESPONSE',
        'ok',
        'UPSTREAM_BAD_RESPONSE',
        'ok',
      ]);
    });
  });
});
