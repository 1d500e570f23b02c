/**
 * Long and pathological resource URIs (matrix #31) against every resource
 * template of every server, through the real v2 client over stdio to each
 * built binary (the sandbox as upstream, a copy of the docs handbook as
 * DOCS_ROOT). Each read and each completion is answered — a result or a
 * JSON-RPC error — within a generous bound that only catastrophic
 * backtracking would break; anything over 2,048 characters is refused; the
 * audit trail does not grow with the URI; and the process keeps serving.
 *
 * The SDK matches a URI against each template's regular expression before
 * core's 2,048-character cap runs (in the read callback), so linear matching
 * rests on the templates' shape: at most one expression per path segment, and
 * a reserved (`{+x}`) expression only last. The first test holds every
 * template to that.
 */
import { cpSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { type Sandbox, startSandbox } from '@gatehouse/sandbox';
import type { Client } from '@modelcontextprotocol/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Connected, connectV2, templateShapeProblems } from '../src/testing/index.ts';

const ROOT = resolve(import.meta.dirname, '../../..');
const SERVERS = [
  { name: 'platform-ops', prefix: 'PLATFORM_OPS' },
  { name: 'docs', prefix: 'DOCS' },
  { name: 'support', prefix: 'SUPPORT' },
] as const;
/** Per call: generous for a loaded CI machine, far below what super-linear matching of these inputs costs. */
const BOUND_MS = 2_000;
const CAP = 2_048;

let sandbox: Sandbox;
let dir: string;
beforeAll(async () => {
  sandbox = await startSandbox();
  dir = mkdtempSync(join(tmpdir(), 'gatehouse-resource-uris-'));
  cpSync(join(ROOT, 'servers/docs/handbook'), join(dir, 'handbook'), { recursive: true });
});
afterAll(async () => {
  await sandbox?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** The template's literal start followed by hostile variable text, each labelled. */
function hostileUris(uriTemplate: string): Array<[string, string]> {
  const start = uriTemplate.slice(0, uriTemplate.indexOf('{'));
  const to = (length: number) => start + 'a'.repeat(length - start.length);
  return [
    ['exactly 2,048 characters', to(CAP)],
    ['2,049 characters', to(CAP + 1)],
    ['64 KiB', to(64 * 1024)],
    ['just under the SDK ceiling of 1,000,000', to(999_000)],
    ['over the SDK ceiling', to(1_000_001)],
    ['a mismatch after 100,000 characters', `${start}${'a'.repeat(100_000)}/`],
    ['list separators', start + 'a,'.repeat(3_000)],
    ['path separators', start + 'a/'.repeat(3_000)],
    ['dot segments', start + '../'.repeat(1_000)],
    ['bare percent signs', start + '%'.repeat(3_000)],
    ['encoded slashes', start + '%2F'.repeat(1_000)],
    ['non-ASCII that grows when encoded', start + 'é'.repeat(3_000)],
    ['query and fragment operators', `${start}${'?a=&'.repeat(1_000)}${'#'.repeat(100)}`],
    ['braces', start + '{x}'.repeat(1_000)],
    ['dashes then a mismatch', `${start}${'-'.repeat(5_000)}/`],
    ['the scheme in capitals', start.toUpperCase() + 'a'.repeat(5_000)],
  ];
}

/** A read or completion answered within the bound: its result, or its JSON-RPC error code. */
async function timed<T>(work: () => Promise<T>): Promise<{ ms: number; result?: T; code?: number }> {
  const started = performance.now();
  try {
    const result = await work();
    return { ms: performance.now() - started, result };
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    if (typeof code !== 'number') throw error;
    return { ms: performance.now() - started, code };
  }
}

describe.each(SERVERS)('resource URIs against $name', ({ name, prefix }) => {
  let c: Connected<Client>;
  let audit: string;
  let templates: Array<{ uriTemplate: string }> = [];
  let statics: Array<{ uri: string }> = [];
  // A hang must fail the call, not wait for the client's 60 s default.
  const options = { timeout: 10_000 };

  beforeAll(async () => {
    audit = join(dir, `${name}-audit.jsonl`);
    c = await connectV2({
      bin: join(ROOT, 'servers', name, 'dist/bin.js'),
      env: {
        [`${prefix}_API_URL`]: sandbox.url,
        [`${prefix}_API_TOKEN`]: sandbox.tokens[name],
        [`${prefix}_AUDIT_FILE`]: audit,
        [`${prefix}_LOG_LEVEL`]: 'warn',
        ...(name === 'docs' ? { DOCS_ROOT: join(dir, 'handbook') } : {}),
      },
    });
    if (c.client.getServerCapabilities()?.resources) {
      templates = (await c.client.listResourceTemplates()).resourceTemplates;
      statics = (await c.client.listResources()).resources;
    }
  }, 30_000);
  afterAll(() => c?.close());

  it('offers only templates whose matching is linear', () => {
    if (name === 'support') {
      // No resources at all: nothing to match, and reads are unknown methods (below).
      expect(c.client.getServerCapabilities()?.resources).toBeUndefined();
      return;
    }
    expect(templates.length).toBeGreaterThan(0);
    for (const { uriTemplate } of templates)
      expect(templateShapeProblems(uriTemplate), uriTemplate).toEqual([]);
  });

  it('answers every hostile URI for every template quickly, refusing all over 2,048 characters', {
    timeout: 120_000,
  }, async () => {
    const uris: Array<readonly [string, string]> = templates.flatMap(({ uriTemplate }) =>
      hostileUris(uriTemplate).map(([label, uri]) => [`${uriTemplate}: ${label}`, uri] as const),
    );
    const fromTemplates = new Set(uris.map(([label]) => label));
    // Static resources and unknown schemes take the same road through the SDK.
    for (const { uri } of statics.slice(0, 3))
      uris.push(
        [`${uri}: long query`, `${uri}?${'a'.repeat(5_000)}`],
        [`${uri}: long path`, `${uri}/${'a/'.repeat(3_000)}`],
      );
    uris.push(['unknown scheme', `nosuch://${'a'.repeat(5_000)}`], ['not a URI', 'a'.repeat(5_000)]);
    for (const [label, uri] of uris) {
      const answer = await timed(() => c.client.readResource({ uri }, options));
      expect(answer.ms, label).toBeLessThan(BOUND_MS);
      if (uri.length > CAP) expect(answer.code, label).toBeTypeOf('number');
      // Past the cap a template's URI is refused by core itself (typed, audited), never by the SDK's matcher.
      if (
        uri.length > CAP &&
        fromTemplates.has(label) &&
        uri.startsWith(label.split(': ')[0]!.split('{')[0]!)
      )
        expect(answer.code, label).toBe(-32602);
      if (name === 'support') expect(answer.code, label).toBe(-32601);
    }
  });

  it('completes hostile values for every template variable quickly', { timeout: 60_000 }, async () => {
    for (const { uriTemplate } of templates) {
      const variables = [...uriTemplate.matchAll(/\{[+#./;?&]?([^}*]+)\*?\}/g)].map((m) => m[1]!);
      expect(variables.length, uriTemplate).toBeGreaterThan(0);
      for (const variable of variables)
        for (const value of [
          'a'.repeat(5_000),
          'a,'.repeat(3_000),
          `${'-'.repeat(5_000)}/`,
          'é'.repeat(3_000),
          'a'.repeat(500_000),
        ]) {
          const answer = await timed(() =>
            c.client.complete(
              { ref: { type: 'ref/resource', uri: uriTemplate }, argument: { name: variable, value } },
              options,
            ),
          );
          expect(answer.ms, `${uriTemplate} ${variable} ${value.length}`).toBeLessThan(BOUND_MS);
          if (answer.result) expect(Array.isArray(answer.result.completion.values)).toBe(true);
        }
    }
  });

  it('keeps serving, with an audit trail that did not grow with the URIs', async () => {
    expect((await c.client.listTools(undefined, options)).tools.length).toBeGreaterThan(0);
    if (templates.length > 0) {
      expect((await c.client.listResourceTemplates(undefined, options)).resourceTemplates).toEqual(templates);
      const first = statics[0];
      expect(first).toBeDefined();
      const read = await c.client.readResource({ uri: first!.uri }, options);
      expect(read.contents.length).toBeGreaterThan(0);
    }
    const lines = readFileSync(audit, { encoding: 'utf8', flag: 'a+' }).split('\n').filter(Boolean);
    for (const line of lines) expect(line.length).toBeLessThan(8 * 1024);
    expect(c.stderr()).not.toMatch(/unhandled|FATAL/i);
  });
});

describe('template shapes the registry check refuses', () => {
  it('names two expressions in one segment and a reserved expansion before the last', () => {
    expect(templateShapeProblems('docs://{+path}')).toEqual([]);
    expect(templateShapeProblems('catalog://services/{service}/{environment}')).toEqual([]);
    expect(templateShapeProblems('x://{a}{b}')).toEqual(['several expressions in segment {a}{b}']);
    expect(templateShapeProblems('x://{a}-{b}/c')).toHaveLength(1);
    expect(templateShapeProblems('x://{+a}/{b}')).toEqual(['reserved expression {+a} is not the last']);
  });
});
