import { symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { connectV2, errorOf, spawnRaw } from '@gatehouse/core/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BIN, CANARY_TOKEN, type Harness, OUTSIDE_SECRET, startHarness, structured } from './harness.ts';

let h: Harness;
let root: string;
beforeAll(async () => {
  h = await startHarness();
  root = h.handbook('hostile');
  // Links that try to leave the root: a folder link to /etc, a file link to a Markdown file next to the root.
  symlinkSync('/etc', join(root, 'etc-link'));
  symlinkSync(join(root, '..', 'hostile-outside', 'secret.md'), join(root, 'guides', 'escape.md'));
  symlinkSync(join(root, '..', 'hostile-outside'), join(root, 'outside-dir'));
  // A link that stays inside the root is fine.
  symlinkSync(join(root, 'adr', '0007-use-postgres.md'), join(root, 'guides', 'postgres-decision.md'));
});
afterAll(() => h.close());

/** Every way a client might try to leave DOCS_ROOT, with the error it must get. */
const TRAVERSALS: Array<[label: string, id: string, code: string]> = [
  ['dot-dot segments', 'local:../hostile-outside/secret', 'INVALID_ARGUMENT'],
  ['dot-dot in the middle', 'local:adr/../../hostile-outside/secret', 'INVALID_ARGUMENT'],
  ['absolute path', 'local:/etc/passwd', 'INVALID_ARGUMENT'],
  ['home path', 'local:~/.ssh/id_rsa', 'INVALID_ARGUMENT'],
  ['NUL byte', 'local:adr/0007-use-postgres\u0000.md', 'INVALID_ARGUMENT'],
  ['encoded NUL', 'local:adr/0007-use-postgres%00.md', 'INVALID_ARGUMENT'],
  ['backslashes', 'local:..\\..\\etc\\passwd', 'INVALID_ARGUMENT'],
  ['percent-encoded dot-dot', 'local:%2e%2e/hostile-outside/secret', 'INVALID_ARGUMENT'],
  ['percent-encoded slash', 'local:adr%2f..%2f..%2fhostile-outside%2fsecret', 'INVALID_ARGUMENT'],
  ['double encoding', 'local:%252e%252e/hostile-outside/secret', 'INVALID_ARGUMENT'],
  ['hidden folder', 'local:.git/config', 'INVALID_ARGUMENT'],
  ['symlinked folder to /etc', 'local:etc-link/passwd', 'DENIED'],
  ['symlinked folder to /etc, missing file', 'local:etc-link/no-such-file', 'DENIED'],
  ['symlinked file outside', 'local:guides/escape', 'DENIED'],
  ['symlinked folder outside', 'local:outside-dir/secret', 'DENIED'],
];

describe('paths never escape DOCS_ROOT', () => {
  let shared: Awaited<ReturnType<typeof connectV2>>;
  beforeAll(async () => {
    shared = await connectV2({ bin: BIN, env: h.env({ DOCS_ROOT: root }) });
  });
  afterAll(() => shared.close());

  it.each(TRAVERSALS)('get_document refuses %s', async (_label, id, code) => {
    const result = await shared.client.callTool({ name: 'get_document', arguments: { id } });
    expect(errorOf(result)?.code).toBe(code);
    const text = JSON.stringify(result);
    expect(text).not.toContain(OUTSIDE_SECRET);
    expect(text).not.toContain('root:x:0:0');
  });

  it('resources refuse the same tricks, and links inside the root still work', async () => {
    const c = await connectV2({ bin: BIN, env: h.env({ DOCS_ROOT: root }) });
    try {
      const uris: Array<[string, RegExp]> = [
        ['docs://../hostile-outside/secret.md', /INVALID_ARGUMENT/],
        ['docs:///etc/passwd', /INVALID_ARGUMENT/],
        ['docs://adr%2F..%2F..%2Fhostile-outside%2Fsecret.md', /INVALID_ARGUMENT/],
        ['docs://%2e%2e/hostile-outside/secret.md', /INVALID_ARGUMENT/],
        ['docs://adr/0007-use-postgres.md%00', /INVALID_ARGUMENT/],
        ['docs://etc-link/passwd', /INVALID_ARGUMENT/],
        ['docs://etc-link/hosts.md', /DENIED/],
        ['docs://guides/escape.md', /DENIED/],
        ['docs://outside-dir/secret.md', /DENIED/],
        ['docs://adr/9999-nothing.md', /NOT_FOUND/],
      ];
      for (const [uri, expected] of uris) {
        const outcome = await c.client.readResource({ uri }).then(
          (r) => `read: ${JSON.stringify(r)}`,
          (e: Error) => e.message,
        );
        expect(outcome, uri).toMatch(expected);
        expect(outcome).not.toContain(OUTSIDE_SECRET);
      }
      // URL parsing already folds "a/../b" to "a/b", so this one is a plain miss inside the root.
      await expect(c.client.readResource({ uri: 'docs://adr/../../etc/passwd.md' })).rejects.toThrow(
        /NOT_FOUND/,
      );

      const inside = await c.client.readResource({ uri: 'docs://guides/postgres-decision.md' });
      expect((inside.contents[0] as { text: string }).text).toContain(
        'Use PostgreSQL as the default relational database',
      );
      const viaTool = structured(
        await c.client.callTool({
          name: 'get_document',
          arguments: { id: 'local:guides/postgres-decision' },
        }),
      );
      expect(viaTool.document.status).toBe('accepted');
    } finally {
      await c.close();
    }
  });

  it('the index never follows links out of the root', async () => {
    const c = await connectV2({ bin: BIN, env: h.env({ DOCS_ROOT: root }) });
    try {
      // The secret file's own words ("9c41f" is unique to it) are not in the index.
      const out = structured(
        await c.client.callTool({ name: 'search_docs', arguments: { query: '9c41f', limit: 25 } }),
      );
      expect(out.total.local).toBe(0);
      const broad = structured(
        await c.client.callTool({ name: 'search_docs', arguments: { query: 'outside secret', limit: 25 } }),
      );
      expect(broad.results.some((r: { id: string }) => /escape|outside|etc-link/.test(r.id))).toBe(false);
      expect(JSON.stringify(out)).not.toContain(OUTSIDE_SECRET);
      const all = await c.client.listResources();
      const uris = all.resources.map((r) => r.uri);
      expect(uris).toContain('docs://guides/postgres-decision.md');
      expect(
        uris.some((u) => u.includes('etc-link') || u.includes('escape') || u.includes('outside-dir')),
      ).toBe(false);
      const completion = await c.client.complete({
        ref: { type: 'ref/resource', uri: 'docs://{+path}' },
        argument: { name: 'path', value: 'e' },
      });
      expect(completion.completion.values).toEqual([]);
    } finally {
      await c.close();
    }
  });
});

describe('stdio hygiene', () => {
  it('stdout carries JSON-RPC only, and the upstream token appears nowhere', async () => {
    const peer = spawnRaw({ bin: BIN, env: { ...h.env({ DOCS_ROOT: root }), DOCS_LOG_LEVEL: 'debug' } });
    try {
      peer.send(
        JSON.stringify({
          jsonrpc: '2.0',
          id: 1,
          method: 'initialize',
          params: {
            protocolVersion: '2025-11-25',
            capabilities: {},
            clientInfo: { name: 'raw', version: '1' },
          },
        }),
      );
      await peer.next((m) => m.id === 1);
      peer.send(JSON.stringify({ jsonrpc: '2.0', method: 'notifications/initialized' }));
      peer.send(
        JSON.stringify({
          jsonrpc: '2.0',
          id: 2,
          method: 'tools/call',
          params: { name: 'search_docs', arguments: { query: 'kafka' } },
        }),
      );
      peer.send(
        JSON.stringify({
          jsonrpc: '2.0',
          id: 3,
          method: 'tools/call',
          params: { name: 'get_document', arguments: { id: 'local:etc-link/passwd' } },
        }),
      );
      peer.send(
        JSON.stringify({
          jsonrpc: '2.0',
          id: 4,
          method: 'resources/read',
          params: { uri: 'docs://adr/0001-record-architecture-decisions.md' },
        }),
      );
      peer.send('this is not json');
      const search = await peer.next((m) => m.id === 2);
      expect(
        (search.result as { structuredContent: { results: unknown[] } }).structuredContent.results.length,
      ).toBeGreaterThan(0);
      await peer.next((m) => m.id === 3);
      await peer.next((m) => m.id === 4);
      await peer.next((m) => m.id === null && typeof m.error === 'object');
      expect(peer.lines.length).toBeGreaterThanOrEqual(5);
      for (const line of peer.lines) {
        const message = JSON.parse(line) as Record<string, unknown>;
        expect(message.jsonrpc).toBe('2.0');
      }
      expect(peer.stderr()).toContain('docs index ready');
      expect(peer.stderr()).not.toContain(CANARY_TOKEN);
      expect(peer.lines.join('\n')).not.toContain(CANARY_TOKEN);
    } finally {
      await peer.close();
    }
  });
});
