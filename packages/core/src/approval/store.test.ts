/**
 * The store contract, against node:sqlite and a real PostgreSQL (started here
 * in a temporary directory; skipped with one line where it cannot start).
 * At-most-once is shown by racing spends and votes from many connections.
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type PostgresServer, startPostgres } from '../testing/postgres.ts';
import { type ApprovalStore, type NewApproval, openApprovalStore } from './store.ts';

const MIN = 60_000;
const fresh = (binding: string = randomUUID(), required = 1, now = Date.now()): NewApproval => ({
  id: randomUUID(),
  binding,
  server: 'platform-ops',
  tool: 'rollback_deploy',
  title: 'Roll back a deploy',
  effect: 'destructive',
  requester: 'oauth:alice',
  args: { service: 'payments-gateway', environment: 'production' },
  target: 'payments-gateway',
  environment: 'production',
  required,
  fourEyes: required > 1,
  createdAt: now,
  expiresAt: now + 15 * MIN,
});
const approve = (approver: string, at = Date.now()) =>
  ({ approver, decision: 'approve', reason: 'looks right', at }) as const;

let pg: PostgresServer | undefined;
let dir: string;
beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'gatehouse-store-'));
  const started = await startPostgres();
  if ('reason' in started) console.warn(`store.test.ts: PostgreSQL cases skipped: ${started.reason}`);
  else pg = started;
}, 60_000);
afterAll(async () => {
  await pg?.stop();
  rmSync(dir, { recursive: true, force: true });
});

const kinds = [
  { name: 'sqlite', spec: () => `sqlite:${join(dir, `${randomUUID()}.db`)}` },
  { name: 'postgres', spec: () => pg?.url },
];

describe.each(kinds)('the $name approval store', ({ spec }) => {
  /** Two handles on one database: two replicas. */
  async function pair(): Promise<[ApprovalStore, ApprovalStore] | undefined> {
    const s = spec();
    if (!s) return undefined;
    return [await openApprovalStore(s), await openApprovalStore(s)];
  }

  it('finds the same pending approval for the identical call, on either replica', async (t) => {
    const stores = await pair();
    if (!stores) return t.skip();
    const [a, b] = stores;
    const first = fresh();
    const opened = await a.open(first, Date.now());
    expect(opened).toMatchObject({ id: first.id, status: 'pending', closed: false });
    const again = await b.open({ ...fresh(first.binding), id: randomUUID() }, Date.now());
    expect(again.id).toBe(first.id);
    await Promise.all([a.close(), b.close()]);
  });

  it('spends an approval exactly once under racing claims from both replicas', async (t) => {
    const stores = await pair();
    if (!stores) return t.skip();
    const [a, b] = stores;
    const row = await a.open(fresh(), Date.now());
    expect(await a.claim(row.id, Date.now())).toBe(false); // not approved yet
    expect((await b.vote(row.id, approve('bob'), 15 * MIN)).ok).toBe(true);
    const claims = await Promise.all(
      Array.from({ length: 16 }, (_, i) => (i % 2 ? a : b).claim(row.id, Date.now())),
    );
    expect(claims.filter(Boolean)).toHaveLength(1);
    expect(await a.get(row.id)).toMatchObject({ status: 'spent', closed: true });
    // The identical call after a spend asks anew.
    const next = await a.open({ ...fresh(row.binding) }, Date.now());
    expect(next.id).not.toBe(row.id);
    await Promise.all([a.close(), b.close()]);
  });

  it('counts approvals to the number required, one vote per approver, and a decline decides', async (t) => {
    const stores = await pair();
    if (!stores) return t.skip();
    const [a, b] = stores;
    const row = await a.open(fresh(undefined, 2), Date.now());
    expect(await a.vote(row.id, approve('bob'), MIN)).toMatchObject({ ok: true, row: { status: 'pending' } });
    expect(await b.vote(row.id, approve('bob'), MIN)).toMatchObject({ ok: false, reason: 'already-voted' });
    expect(await b.vote(row.id, approve('carol'), MIN)).toMatchObject({
      ok: true,
      row: { status: 'approved' },
    });
    expect(await a.vote(row.id, approve('dave'), MIN)).toMatchObject({ ok: false, reason: 'not-pending' });

    const other = await a.open(fresh(), Date.now());
    const declined = await b.vote(other.id, { ...approve('bob'), decision: 'decline', reason: 'no' }, MIN);
    expect(declined).toMatchObject({ ok: true, row: { status: 'declined', reason: 'no' } });
    expect(await a.claim(other.id, Date.now())).toBe(false);
    // The caller is told once; the next identical call asks anew.
    expect(await a.open(fresh(other.binding), Date.now())).toMatchObject({
      id: other.id,
      status: 'declined',
      closed: true,
    });
    expect((await a.open(fresh(other.binding), Date.now())).status).toBe('pending');
    await Promise.all([a.close(), b.close()]);
  });

  it('racing votes from both replicas decide once', async (t) => {
    const stores = await pair();
    if (!stores) return t.skip();
    const [a, b] = stores;
    const row = await a.open(fresh(undefined, 1), Date.now());
    const results = await Promise.all(
      Array.from({ length: 12 }, (_, i) => (i % 2 ? a : b).vote(row.id, approve(`approver-${i}`), MIN)),
    );
    expect(results.filter((r) => r.ok)).toHaveLength(1);
    await Promise.all([a.close(), b.close()]);
  });

  it('expires: no vote and no spend after the deadline, and the caller is told', async (t) => {
    const stores = await pair();
    if (!stores) return t.skip();
    const [a, b] = stores;
    const past = Date.now() - 20 * MIN;
    const row = await a.open(fresh(undefined, 1, past), past);
    expect(await b.vote(row.id, approve('bob'), MIN)).toMatchObject({ ok: false, reason: 'expired' });
    expect(await a.open(fresh(row.binding), Date.now())).toMatchObject({ id: row.id, status: 'expired' });

    const late = await a.open(fresh(), Date.now());
    await b.vote(late.id, approve('bob', Date.now() - 2 * MIN), MIN); // granted until a minute ago
    expect(await a.claim(late.id, Date.now())).toBe(false);
    await Promise.all([a.close(), b.close()]);
  });
});

it('refuses a store that is neither sqlite nor postgres', async () => {
  await expect(openApprovalStore('mysql://x')).rejects.toThrow(/sqlite:<path>/);
});
