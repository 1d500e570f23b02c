import { type Sandbox, startSandbox } from '@gatehouse/sandbox';
import { call, collect } from '@gatehouse/sandbox/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

let sb: Sandbox;
let token: string;
beforeAll(async () => {
  sb = await startSandbox();
  token = sb.tokens['platform-ops'];
});
afterAll(() => sb.close());

describe('platform-ops: services', () => {
  it('lists at least 24 services sorted by name, paginating to the end', async () => {
    const first = await call(sb, '/platform/v1/services?limit=5', { token });
    expect(first.json.items).toHaveLength(5);
    expect(first.json.items[0]).toEqual({
      name: expect.any(String),
      displayName: expect.any(String),
      tier: expect.stringMatching(/^tier-[123]$/),
      team: expect.any(String),
    });
    const all = await collect(sb, '/platform/v1/services?limit=5', token);
    expect(all.total).toBeGreaterThanOrEqual(24);
    expect(all.items).toHaveLength(all.total);
    expect(all.pages).toBe(Math.ceil(all.total / 5));
    const names = all.items.map((s: { name: string }) => s.name);
    expect(names).toEqual([...names].sort());
    expect(new Set(names).size).toBe(names.length);
    expect(names).toEqual(
      expect.arrayContaining(['checkout-api', 'payments-gateway', 'search-indexer', 'auth-service']),
    );
  });

  it('filters by prefix and validates paging parameters', async () => {
    const res = await call(sb, '/platform/v1/services?prefix=pay', { token });
    expect(res.json.items.map((s: { name: string }) => s.name)).toEqual(['payments-gateway']);
    expect(res.json).toMatchObject({ total: 1, nextCursor: null });
    expect((await call(sb, '/platform/v1/services?prefix=zzz', { token })).json).toEqual({
      items: [],
      nextCursor: null,
      total: 0,
    });
    for (const q of ['limit=0', 'limit=101', 'limit=abc', 'cursor=!!!', 'cursor=bm9wZQ']) {
      const bad = await call(sb, `/platform/v1/services?${q}`, { token });
      expect(bad.status, q).toBe(400);
      expect(bad.json.error).toBe('invalid_argument');
    }
  });

  it('returns the full service record', async () => {
    const res = await call(sb, '/platform/v1/services/checkout-api', { token });
    expect(res.status).toBe(200);
    expect(res.json).toMatchObject({
      name: 'checkout-api',
      displayName: 'Checkout API',
      tier: 'tier-1',
      owner: {
        team: 'checkout',
        slack: '#team-checkout',
        onCall: { primary: expect.any(String), secondary: expect.any(String), rotation: expect.any(String) },
      },
      repository: expect.stringMatching(/^https:\/\/git\.example\.internal\//),
      environments: ['production', 'staging', 'development'],
    });
    expect(res.json.dashboards[0]).toEqual({
      name: expect.any(String),
      url: expect.stringMatching(/^https:\/\//),
    });
    expect(res.json.dependencies).toContain('payments-gateway');
    const missing = await call(sb, '/platform/v1/services/no-such-service', { token });
    expect(missing.status).toBe(404);
    expect(missing.json.error).toBe('not_found');
    // Exact match after percent-decoding.
    expect((await call(sb, '/platform/v1/services/checkout%2Dapi', { token })).status).toBe(200);
    expect((await call(sb, '/platform/v1/services/Checkout-API', { token })).status).toBe(404);
  });

  it('reports health per environment', async () => {
    const res = await call(sb, '/platform/v1/services/checkout-api/health?environment=production', { token });
    expect(res.json).toMatchObject({
      service: 'checkout-api',
      environment: 'production',
      status: 'degraded',
    });
    expect(res.json.signals).toEqual({
      errorRate: expect.any(Number),
      latencyP99Ms: expect.any(Number),
      availability: expect.any(Number),
      saturation: expect.any(Number),
    });
    expect(res.json.alerts[0]).toEqual({
      id: expect.any(String),
      severity: 'critical',
      title: expect.any(String),
      since: expect.any(String),
    });
    expect(Number.isNaN(Date.parse(res.json.checkedAt))).toBe(false);
    expect(
      (await call(sb, '/platform/v1/services/auth-service/health?environment=staging', { token })).json
        .status,
    ).toBe('healthy');
    expect((await call(sb, '/platform/v1/services/checkout-api/health', { token })).status).toBe(400);
    expect(
      (await call(sb, '/platform/v1/services/checkout-api/health?environment=prod', { token })).status,
    ).toBe(400);
    expect(
      (await call(sb, '/platform/v1/services/nope/health?environment=production', { token })).status,
    ).toBe(404);
  });

  it('lists deploys newest first with since filter and pagination', async () => {
    const all = await collect(
      sb,
      '/platform/v1/services/search-indexer/deploys?environment=production&limit=7',
      token,
    );
    expect(all.items.length).toBeGreaterThanOrEqual(10);
    expect(all.items.length).toBeLessThanOrEqual(20);
    const starts = all.items.map((d: { startedAt: string }) => d.startedAt);
    expect(starts).toEqual([...starts].sort().reverse());
    const latest = all.items[0];
    expect(latest).toEqual({
      id: expect.stringMatching(/^dep_/),
      service: 'search-indexer',
      environment: 'production',
      version: expect.stringMatching(/^\d+\.\d+\.\d+$/),
      commit: expect.stringMatching(/^[0-9a-f]{40}$/),
      author: expect.any(String),
      status: 'in_progress',
      startedAt: expect.any(String),
      finishedAt: null,
      summary: expect.any(String),
    });
    const since = starts[3] as string;
    const recent = await call(
      sb,
      `/platform/v1/services/search-indexer/deploys?environment=production&since=${encodeURIComponent(since)}`,
      { token },
    );
    expect(recent.json.total).toBe(4);
    const everyEnv = await call(sb, '/platform/v1/services/search-indexer/deploys?limit=100', { token });
    expect(new Set(everyEnv.json.items.map((d: { environment: string }) => d.environment)).size).toBe(3);
    expect(
      (await call(sb, '/platform/v1/services/search-indexer/deploys?since=yesterday', { token })).status,
    ).toBe(400);
  });
});

describe('platform-ops: runbooks', () => {
  it('ranks runbook search results', async () => {
    const res = await call(sb, '/platform/v1/runbooks?query=checkout%20latency', { token });
    expect(res.json.items[0]).toMatchObject({
      id: 'rb-checkout-api-latency',
      service: 'checkout-api',
      tags: expect.arrayContaining(['latency']),
    });
    expect(res.json.items[0].score).toBeGreaterThan(0);
    const scores = res.json.items.map((r: { score: number }) => r.score);
    expect(scores).toEqual([...scores].sort((a, b) => b - a));
    const byService = await call(sb, '/platform/v1/runbooks?service=payments-gateway', { token });
    expect(byService.json.items.every((r: { service: string }) => r.service === 'payments-gateway')).toBe(
      true,
    );
    expect(byService.json.items[0].score).toBeNull();
    const all = await collect(sb, '/platform/v1/runbooks?limit=8', token);
    expect(all.total).toBeGreaterThanOrEqual(30);
    expect(all.items.some((r: { service: string | null }) => r.service === null)).toBe(true);
    expect((await call(sb, '/platform/v1/runbooks?query=%22%29(*', { token })).json.total).toBe(0);
  });

  it('serves full runbooks, including hostile ones', async () => {
    const res = await call(sb, '/platform/v1/runbooks/rb-checkout-api-latency', { token });
    expect(res.json).toEqual({
      id: 'rb-checkout-api-latency',
      title: expect.any(String),
      service: 'checkout-api',
      tags: expect.any(Array),
      body: expect.stringContaining('## Steps'),
      updatedAt: expect.any(String),
    });
    const hostile = await call(sb, '/platform/v1/runbooks?query=ignore%20previous%20instructions', { token });
    const ids = hostile.json.items.map((r: { id: string }) => r.id);
    expect(ids).toEqual(
      expect.arrayContaining(['rb-payments-gateway-processor-timeouts', 'rb-cache-eviction']),
    );
    expect((await call(sb, '/platform/v1/runbooks/rb-nope', { token })).status).toBe(404);
  });
});

describe('platform-ops: rollbacks', () => {
  const path = '/platform/v1/services/checkout-api/rollbacks';

  it('requires an Idempotency-Key and a valid body', async () => {
    const noKey = await call(sb, path, { token, body: { environment: 'staging', reason: 'test' } });
    expect(noKey.status).toBe(400);
    expect(noKey.json.error).toBe('invalid_argument');
    const longKey = await call(sb, path, {
      token,
      body: { environment: 'staging', reason: 'x' },
      headers: { 'idempotency-key': 'k'.repeat(201) },
    });
    expect(longKey.status).toBe(400);
    const badEnv = await call(sb, path, {
      token,
      body: { environment: 'prod', reason: 'x' },
      headers: { 'idempotency-key': 'bad-env' },
    });
    expect(badEnv.status).toBe(400);
    const noReason = await call(sb, path, {
      token,
      body: { environment: 'staging' },
      headers: { 'idempotency-key': 'no-reason' },
    });
    expect(noReason.status).toBe(400);
    const badJson = await call(sb, path, {
      token,
      body: '{"environment":',
      headers: { 'idempotency-key': 'bad-json' },
    });
    expect(badJson.status).toBe(400);
    const unknown = await call(sb, '/platform/v1/services/nope/rollbacks', {
      token,
      body: { environment: 'staging', reason: 'x' },
      headers: { 'idempotency-key': 'unknown' },
    });
    expect(unknown.status).toBe(404);
  });

  it('rolls back to the previous succeeded version exactly once per key', async () => {
    const before = await call(
      sb,
      '/platform/v1/services/checkout-api/deploys?environment=production&limit=100',
      { token },
    );
    const succeeded = before.json.items.filter((d: { status: string }) => d.status === 'succeeded');
    const current = succeeded[0];
    const previous = succeeded.find((d: { version: string }) => d.version !== current.version);
    const body = { environment: 'production', reason: 'p99 regression after deploy' };
    const first = await call(sb, path, { token, body, headers: { 'idempotency-key': 'rbk-1' } });
    expect(first.status).toBe(201);
    expect(first.json).toEqual({
      id: expect.stringMatching(/^rbk_/),
      service: 'checkout-api',
      environment: 'production',
      fromVersion: current.version,
      toVersion: previous.version,
      status: 'started',
      reason: body.reason,
      requestedAt: expect.any(String),
    });
    expect(first.headers.get('idempotent-replayed')).toBeNull();

    const replay = await call(sb, path, {
      token,
      body: { reason: body.reason, environment: 'production' },
      headers: { 'idempotency-key': 'rbk-1' },
    });
    expect(replay.status).toBe(201);
    expect(replay.text).toBe(first.text);
    expect(replay.headers.get('idempotent-replayed')).toBe('true');

    const after = await call(
      sb,
      '/platform/v1/services/checkout-api/deploys?environment=production&limit=100',
      { token },
    );
    expect(after.json.total).toBe(before.json.total + 1);
    expect(after.json.items[0]).toMatchObject({
      status: 'in_progress',
      version: previous.version,
      author: 'rollback-bot',
      finishedAt: null,
    });
    expect(after.json.items.find((d: { id: string }) => d.id === current.id).status).toBe('rolled_back');

    const conflict = await call(sb, path, {
      token,
      body: { environment: 'production', reason: 'different' },
      headers: { 'idempotency-key': 'rbk-1' },
    });
    expect(conflict.status).toBe(409);
    expect(conflict.json.error).toBe('conflict');
  });

  it('honours targetVersion and answers 422 when no earlier version exists', async () => {
    const deploys = await call(
      sb,
      '/platform/v1/services/auth-service/deploys?environment=development&limit=100',
      { token },
    );
    const succeeded = deploys.json.items.filter((d: { status: string }) => d.status === 'succeeded');
    const oldest = succeeded[succeeded.length - 1];
    const target = await call(sb, '/platform/v1/services/auth-service/rollbacks', {
      token,
      body: { environment: 'development', reason: 'bisecting', targetVersion: oldest.version },
      headers: { 'idempotency-key': 'target-1' },
    });
    expect(target.status).toBe(201);
    expect(target.json.toVersion).toBe(oldest.version);
    const neverDeployed = await call(sb, '/platform/v1/services/auth-service/rollbacks', {
      token,
      body: { environment: 'development', reason: 'x', targetVersion: '99.0.0' },
      headers: { 'idempotency-key': 'target-2' },
    });
    expect(neverDeployed.status).toBe(422);
    // Now running the oldest version: nothing earlier remains.
    const exhausted = await call(sb, '/platform/v1/services/auth-service/rollbacks', {
      token,
      body: { environment: 'development', reason: 'again' },
      headers: { 'idempotency-key': 'target-3' },
    });
    expect(exhausted.status).toBe(422);
    expect(exhausted.json.error).toBe('unprocessable');
  });
});

describe('determinism', () => {
  it('rebuilds a file-backed database from the seed on every start', async () => {
    const { mkdtempSync, rmSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const dir = mkdtempSync(join(tmpdir(), 'sandbox-db-'));
    try {
      const dbPath = join(dir, 'sandbox.sqlite');
      const first = await startSandbox({ dbPath });
      const t1 = first.tokens['platform-ops'];
      const rollback = await call(first, '/platform/v1/services/order-service/rollbacks', {
        token: t1,
        body: { environment: 'production', reason: 'file db' },
        headers: { 'idempotency-key': 'file-db' },
      });
      expect(rollback.status).toBe(201);
      const before = (await call(first, '/platform/v1/services/order-service/deploys?limit=1', { token: t1 }))
        .json.total;
      await first.close();
      const second = await startSandbox({ dbPath });
      try {
        const t2 = second.tokens['platform-ops'];
        expect(
          (await call(second, '/platform/v1/services/order-service/deploys?limit=1', { token: t2 })).json
            .total,
        ).toBe(before - 1);
        expect(
          (await call(second, '/platform/v1/runbooks?query=latency', { token: t2 })).json.total,
        ).toBeGreaterThan(0);
      } finally {
        await second.close();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('seeds identical ids and content on every start', async () => {
    const other = await startSandbox();
    try {
      for (const path of [
        '/platform/v1/services/payments-gateway/deploys?limit=5',
        '/platform/v1/runbooks?limit=50',
      ]) {
        const a = await call(sb, path.replace('payments-gateway', 'payments-gateway'), { token });
        const b = await call(other, path, { token: other.tokens['platform-ops'] });
        const strip = (items: Record<string, unknown>[]) =>
          items.map(({ id, version, commit, title }) => ({ id, version, commit, title }));
        expect(strip(b.json.items)).toEqual(strip(a.json.items));
      }
    } finally {
      await other.close();
    }
  });
});
