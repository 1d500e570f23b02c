import { type Sandbox, startSandbox } from '@gatehouse/sandbox';
import { call, collect } from '@gatehouse/sandbox/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

let sb: Sandbox;
let token: string;
beforeAll(async () => {
  sb = await startSandbox();
  token = sb.tokens.docs;
});
afterAll(() => sb.close());

describe('docs API', () => {
  it('lists every document newest first, paginating to the end', async () => {
    const all = await collect(sb, '/docs/v1/documents?limit=10', token);
    expect(all.total).toBeGreaterThanOrEqual(45);
    expect(all.items).toHaveLength(all.total);
    expect(new Set(all.items.map((d: { id: string }) => d.id)).size).toBe(all.total);
    const dates = all.items.map((d: { updatedAt: string }) => d.updatedAt);
    expect(dates).toEqual([...dates].sort().reverse());
    const kinds: Record<string, number> = {};
    for (const d of all.items as { kind: string }[]) kinds[d.kind] = (kinds[d.kind] ?? 0) + 1;
    expect(kinds.adr).toBeGreaterThanOrEqual(20);
    expect(kinds.standard).toBeGreaterThanOrEqual(12);
    expect(kinds.guide).toBeGreaterThanOrEqual(13);
    expect(all.items[0]).toEqual({
      id: expect.any(String),
      kind: expect.stringMatching(/^(adr|standard|guide)$/),
      title: expect.any(String),
      status: expect.toSatisfy((v: unknown) => v === null || typeof v === 'string'),
      owner: expect.any(String),
      tags: expect.any(Array),
      updatedAt: expect.any(String),
      snippet: expect.any(String),
      score: null,
    });
  });

  it('filters by kind and status and validates them', async () => {
    const adrs = await collect(sb, '/docs/v1/documents?kind=adr&status=accepted&limit=100', token);
    expect(adrs.items.length).toBeGreaterThan(5);
    expect(
      adrs.items.every((d: { kind: string; status: string }) => d.kind === 'adr' && d.status === 'accepted'),
    ).toBe(true);
    const statuses = new Set(
      (await collect(sb, '/docs/v1/documents?kind=adr', token)).items.map(
        (d: { status: string }) => d.status,
      ),
    );
    expect([...statuses].sort()).toEqual(['accepted', 'deprecated', 'proposed', 'rejected', 'superseded']);
    expect((await call(sb, '/docs/v1/documents?kind=memo', { token })).status).toBe(400);
    expect((await call(sb, '/docs/v1/documents?status=draft', { token })).status).toBe(400);
  });

  it('ranks search results with snippets', async () => {
    const res = await call(sb, '/docs/v1/documents?query=postgres%20database&limit=5', { token });
    expect(res.json.items.length).toBeGreaterThan(0);
    expect(res.json.items.map((d: { id: string }) => d.id)).toContain(
      'adr-0001-use-postgresql-default-relational',
    );
    const scores = res.json.items.map((d: { score: number }) => d.score);
    expect(scores.every((s: number) => s > 0)).toBe(true);
    expect(scores).toEqual([...scores].sort((a, b) => b - a));
    const searched = await collect(sb, '/docs/v1/documents?query=service&limit=7', token);
    expect(searched.items).toHaveLength(searched.total);
    const std = await call(sb, '/docs/v1/documents?query=versioning&kind=standard', { token });
    expect(std.json.items[0].id).toBe('std-api-versioning');
  });

  it('serves full documents, including long and hostile ones', async () => {
    const doc = await call(sb, '/docs/v1/documents/std-api-versioning', { token });
    expect(doc.json).toMatchObject({
      id: 'std-api-versioning',
      kind: 'standard',
      status: null,
      url: 'https://wiki.example.internal/standards/std-api-versioning',
    });
    expect(typeof doc.json.body).toBe('string');
    const all = (await collect(sb, '/docs/v1/documents?limit=100', token)).items as { id: string }[];
    const bodies = await Promise.all(
      all.map(
        async (d) =>
          (await call(sb, `/docs/v1/documents/${encodeURIComponent(d.id)}`, { token })).json.body as string,
      ),
    );
    expect(bodies.filter((b) => b.length > 20_000).length).toBeGreaterThanOrEqual(2);
    expect(bodies.some((b) => /ignore all previous instructions/i.test(b))).toBe(true);
    expect(bodies.some((b) => /[\u200b\u202e]/.test(b))).toBe(true);
    const adr = await call(sb, '/docs/v1/documents/adr-0002-adopt-kafka-asynchronous-service', { token });
    expect(adr.json.body).toMatch(/## Context[\s\S]*## Decision[\s\S]*## Consequences/);
    expect((await call(sb, '/docs/v1/documents/adr-9999', { token })).status).toBe(404);
  });

  it('has an ownership record for every platform service', async () => {
    const services = (await collect(sb, '/platform/v1/services?limit=100', sb.tokens['platform-ops']))
      .items as { name: string; team: string }[];
    for (const s of services) {
      const res = await call(sb, `/docs/v1/ownership/${s.name}`, { token });
      expect(res.status).toBe(200);
      expect(res.json).toEqual({
        service: s.name,
        team: s.team,
        onCall: { primary: expect.any(String), secondary: expect.any(String), rotation: expect.any(String) },
        repository: expect.stringContaining(s.name),
        slack: expect.stringMatching(/^#/),
        relatedDocs: expect.any(Array),
      });
    }
    expect(
      (await call(sb, '/docs/v1/ownership/checkout-api', { token })).json.relatedDocs.length,
    ).toBeGreaterThan(0);
    expect((await call(sb, '/docs/v1/ownership/nope', { token })).status).toBe(404);
  });
});
