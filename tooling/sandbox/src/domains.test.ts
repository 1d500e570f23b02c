import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { assembleContract, sandboxContract } from './contract.ts';
import { discoverDomains, fragmentFiles, workspaceRoot } from './discover.ts';
import { startSandbox, startServerHarness } from './index.ts';
import { defineSandboxDomain, notFound, ok, type SandboxDomain } from './kit.ts';
import { call } from './test-utils.ts';
import type { Sandbox } from './types.ts';

/** A domain of the test's own, the way core's tests bring one: no server folder, an inline contract. */
const fixture = defineSandboxDomain({
  name: 'fixture',
  prefix: '/fixture/v1',
  tokenPrefix: 'sbx_fix',
  schema: 'CREATE TABLE notes (id TEXT PRIMARY KEY, text TEXT NOT NULL);',
  seed: (store) => store.run('INSERT INTO notes (id, text) VALUES (?, ?)', 'n1', 'hello'),
  routes: (store) => [
    {
      method: 'GET',
      pattern: '/fixture/v1/notes/:id',
      handler: ({ params }) => {
        const row = store.get('SELECT id, text FROM notes WHERE id = ?', params.id!);
        if (!row) throw notFound(`note '${params.id}' does not exist`);
        return ok(row);
      },
    },
    {
      method: 'GET',
      pattern: '/fixture/v1/gone',
      // What an ApiError from another copy of the kit looks like (a fragment under the built binary).
      handler: () => {
        throw Object.assign(new Error('gone for good'), {
          status: 410,
          code: 'not_found',
          [Symbol.for('gatehouse.sandbox.ApiError')]: true,
        });
      },
    },
  ],
  contract: {
    paths: {
      '/fixture/v1/notes/{id}': {
        get: {
          responses: {
            '200': {
              description: 'A note.',
              content: { 'application/json': { schema: { $ref: '#/components/schemas/Note' } } },
            },
            '404': { $ref: '#/components/responses/NotFound' },
          },
        },
      },
    },
    components: { schemas: { Note: { type: 'object', required: ['id', 'text'] } } },
  },
});

const like = (over: Partial<SandboxDomain>): SandboxDomain => ({ ...fixture, ...over });

describe('discovery', () => {
  it('finds every servers/<name>/sandbox/index.ts from its own location, named after its folder', async () => {
    const root = workspaceRoot();
    const withFragment = readdirSync(join(root, 'servers'), { withFileTypes: true })
      .filter((e) => e.isDirectory() && readdirSync(join(root, 'servers', e.name)).includes('sandbox'))
      .map((e) => e.name)
      .sort();
    expect(fragmentFiles(root)).toEqual(
      withFragment.map((n) => join(root, 'servers', n, 'sandbox', 'index.ts')),
    );
    const domains = await discoverDomains(root);
    expect(domains.map((d) => d.name)).toEqual(withFragment);
    expect(withFragment).toEqual(expect.arrayContaining(['docs', 'platform-ops', 'support']));
    expect(workspaceRoot(join(root, 'tooling', 'sandbox', 'dist', 'bin.js'))).toBe(root);
  });

  it('merges every fragment into one contract with a tag and a tokenDomain value per domain', async () => {
    const spec = await sandboxContract({ domains: [fixture] });
    const names = [...(await discoverDomains()).map((d) => d.name), 'fixture'];
    expect(spec.tags.map((t) => t.name)).toEqual([...names, 'sandbox']);
    expect(Object.keys(spec.paths)[0]).toBe('/healthz');
    expect(Object.keys(spec.paths)).toContain('/fixture/v1/notes/{id}');
    expect(Object.keys(spec.paths).slice(-2)).toEqual(['/_sandbox/faults', '/_sandbox/requests']);
    const record = spec.components.schemas?.RequestRecord as {
      properties: { tokenDomain: { enum: unknown[] } };
    };
    expect(record.properties.tokenDomain.enum).toEqual([...names, 'control', 'unknown', null]);
  });

  it('refuses fragments that clash or point outside themselves', () => {
    const contract = (c: object) => like({ contract: c });
    expect(() => assembleContract([contract({ paths: { '/other/v1/x': {} } })])).toThrow(
      /outside \/fixture\/v1/,
    );
    expect(() => assembleContract([contract({ components: { schemas: { Error: {} } } })])).toThrow(
      /redefines components\.schemas\.Error/,
    );
    expect(() =>
      assembleContract([
        contract({ paths: { '/fixture/v1/x': { get: { $ref: '#/components/schemas/Nope' } } } }),
      ]),
    ).toThrow(/dangling \$refs: #\/components\/schemas\/Nope/);
    expect(() => assembleContract([contract({ info: {} })])).toThrow(/only have paths and components/);
  });
});

describe('fragments passed by the caller', () => {
  let sb: Sandbox;
  beforeAll(async () => {
    sb = await startSandbox({ discover: false, domains: [fixture] });
  });
  afterAll(() => sb.close());

  it('are served with their own prefix, token, tables and seed', async () => {
    expect(Object.keys(sb.tokens)).toEqual(['fixture']);
    expect(sb.tokens.fixture).toMatch(/^sbx_fix_/);
    expect(sb.domains).toEqual([fixture]);
    const res = await call(sb, '/fixture/v1/notes/n1', { token: sb.tokens.fixture });
    expect(res.json).toEqual({ id: 'n1', text: 'hello' });
    const missing = await call(sb, '/fixture/v1/notes/n2', { token: sb.tokens.fixture });
    expect(missing.status).toBe(404);
    expect(missing.json).toEqual({ error: 'not_found', message: "note 'n2' does not exist" });
    const gone = await call(sb, '/fixture/v1/gone', { token: sb.tokens.fixture });
    expect([gone.status, gone.json]).toEqual([410, { error: 'not_found', message: 'gone for good' }]);
    expect((await call(sb, '/fixture/v1/notes/n1', { token: sb.controlToken })).status).toBe(403);
    expect((await call(sb, '/platform/v1/services', { token: sb.tokens.fixture })).status).toBe(404);
  });

  it('sit beside the workspace domains, and a harness can run against one', async () => {
    const h = await startServerHarness({
      domain: 'fixture',
      prefix: 'FIXTURE',
      token: 'sbx_fix_CANARY',
      domains: [fixture],
    });
    try {
      expect(h.sandbox.tokens.fixture).toBe('sbx_fix_CANARY');
      expect(h.sandbox.tokens['platform-ops']).toMatch(/^sbx_ops_/);
      expect(h.env()).toMatchObject({ FIXTURE_API_URL: h.sandbox.url, FIXTURE_API_TOKEN: 'sbx_fix_CANARY' });
      expect(await h.api('/fixture/v1/notes/n1')).toEqual({ id: 'n1', text: 'hello' });
    } finally {
      await h.close();
    }
  });

  it('are checked: names, prefixes, token prefixes, routes and tokens', async () => {
    const start = (domains: SandboxDomain[], tokens?: Record<string, string>) =>
      startSandbox({ discover: false, domains, ...(tokens ? { tokens } : {}) });
    await expect(start([fixture, like({ prefix: '/other/v1', tokenPrefix: 'sbx_oth' })])).rejects.toThrow(
      /two sandbox domains are named 'fixture'/,
    );
    await expect(
      start([fixture, like({ name: 'other', prefix: '/fixture', tokenPrefix: 'sbx_o' })]),
    ).rejects.toThrow(/overlapping prefixes/);
    await expect(start([fixture, like({ name: 'other', prefix: '/other/v1' })])).rejects.toThrow(
      /share the token prefix/,
    );
    await expect(start([like({ name: 'control' })])).rejects.toThrow(/name must be/);
    await expect(start([like({ prefix: '/healthz/v1' })])).rejects.toThrow(
      /overlaps the sandbox's own routes/,
    );
    await expect(start([like({ tokenPrefix: 'Bad Prefix' })])).rejects.toThrow(/tokenPrefix/);
    await expect(
      start([like({ routes: () => [{ method: 'GET', pattern: '/elsewhere', handler: () => ok(1) }] })]),
    ).rejects.toThrow(/route \/elsewhere is outside \/fixture\/v1/);
    await expect(start([fixture], { billing: 'x' })).rejects.toThrow(/no sandbox domain named 'billing'/);
    expect(() => defineSandboxDomain(like({ routes: undefined as never }))).toThrow(
      /routes must be a function/,
    );
  });
});
