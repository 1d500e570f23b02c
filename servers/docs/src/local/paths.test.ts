import { connectV2, errorOf, withClient } from '@gatehouse/core/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { callOk, fileHarness, OUTSIDE_SECRET, plantLinks } from '../../test/harness.ts';
import docs from '../index.ts';
import { cleanClientPath } from './paths.ts';

const h = fileHarness();
let root: string;
beforeAll(() => {
  root = h.handbook('hostile');
  plantLinks(root);
});

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
    shared = await connectV2({ server: docs, env: h.env({ DOCS_ROOT: root }) });
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
    await withClient(connectV2({ server: docs, env: h.env({ DOCS_ROOT: root }) }), async ({ client }) => {
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
        const outcome = await client.readResource({ uri }).then(
          (r) => `read: ${JSON.stringify(r)}`,
          (e: Error) => e.message,
        );
        expect(outcome, uri).toMatch(expected);
        expect(outcome).not.toContain(OUTSIDE_SECRET);
      }
      // URL parsing already folds "a/../b" to "a/b", so this one is a plain miss inside the root.
      await expect(client.readResource({ uri: 'docs://adr/../../etc/passwd.md' })).rejects.toThrow(
        /NOT_FOUND/,
      );

      const inside = await client.readResource({ uri: 'docs://guides/postgres-decision.md' });
      expect((inside.contents[0] as { text: string }).text).toContain(
        'Use PostgreSQL as the default relational database',
      );
      const viaTool = await callOk(client, 'get_document', { id: 'local:guides/postgres-decision' });
      expect(viaTool.document.status).toBe('accepted');
    });
  });

  it('the index never follows links out of the root', async () => {
    await withClient(connectV2({ server: docs, env: h.env({ DOCS_ROOT: root }) }), async ({ client }) => {
      // The secret file's own words ("9c41f" is unique to it) are not in the index.
      const out = await callOk(client, 'search_docs', { query: '9c41f', limit: 25 });
      expect(out.total.local).toBe(0);
      const broad = await callOk(client, 'search_docs', { query: 'outside secret', limit: 25 });
      expect(broad.results.some((r: { id: string }) => /escape|outside|etc-link/.test(r.id))).toBe(false);
      expect(JSON.stringify(out)).not.toContain(OUTSIDE_SECRET);
      const all = await client.listResources();
      const uris = all.resources.map((r) => r.uri);
      expect(uris).toContain('docs://guides/postgres-decision.md');
      expect(
        uris.some((u) => u.includes('etc-link') || u.includes('escape') || u.includes('outside-dir')),
      ).toBe(false);
      const completion = await client.complete({
        ref: { type: 'ref/resource', uri: 'docs://{+path}' },
        argument: { name: 'path', value: 'e' },
      });
      expect(completion.completion.values).toEqual([]);
    });
  });
});

describe('client paths', () => {
  it('accepts plain relative paths and rejects every escape', () => {
    expect(cleanClientPath('adr/0007-use-postgres.md')).toBe('adr/0007-use-postgres.md');
    expect(cleanClientPath('adr%2F0007-use-postgres.md')).toBe('adr/0007-use-postgres.md');
    for (const bad of [
      '',
      '../x',
      'a/../../x',
      '/etc/passwd',
      'C:/x',
      'a\\b',
      'a\u0000b',
      '%2e%2e/x',
      '%252e%252e/x',
      'a//b',
      './a',
      '.git/config',
      '%E0%A4%A',
      'a/\u0007b',
    ]) {
      expect(() => cleanClientPath(bad), JSON.stringify(bad)).toThrow(/not allowed/);
    }
  });
});
