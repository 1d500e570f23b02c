/**
 * Long and pathological resource URIs (matrix #31) against every resource
 * template of one server, through a real v2 client. Each read and each
 * completion is answered — a result or a JSON-RPC error — within a generous
 * bound that only catastrophic backtracking would break; anything over 2,048
 * characters is refused; the audit trail does not grow with the URI; and the
 * server keeps serving.
 *
 * The SDK matches a URI against each template's regular expression before
 * core's 2,048-character cap runs (in the read callback), so linear matching
 * rests on the templates' shape: at most one expression per path segment, and
 * a reserved (`{+x}`) expression only last. The first check holds every
 * template to that.
 *
 * `describeResourceUris(name, connect)` declares the four checks for one server
 * (core runs them against its fixture; a server's shared checks can run them too).
 */
import { readFileSync } from 'node:fs';
import type { Client } from '@modelcontextprotocol/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Connected } from './index.ts';
import { templateShapeProblems } from './registry.ts';

/** Per call: generous for a loaded CI machine, far below what super-linear matching of these inputs costs. */
const BOUND_MS = 2_000;
const CAP = 2_048;

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

/** A connected client and the audit file its server writes. */
export interface UriTarget {
  c: Connected<Client>;
  auditFile: string;
}

/** Declares the hostile-URI checks for one server; `connect` runs once, before them. */
export function describeResourceUris(name: string, connect: () => Promise<UriTarget>): void {
  describe(`resource URIs against ${name}`, () => {
    let target: UriTarget;
    let served = false;
    let templates: Array<{ uriTemplate: string }> = [];
    let statics: Array<{ uri: string }> = [];
    // A hang must fail the call, not wait for the client's 60 s default.
    const options = { timeout: 10_000 };

    beforeAll(async () => {
      target = await connect();
      served = Boolean(target.c.client.getServerCapabilities()?.resources);
      if (served) {
        templates = (await target.c.client.listResourceTemplates()).resourceTemplates;
        statics = (await target.c.client.listResources()).resources;
      }
    }, 30_000);
    afterAll(() => target?.c.close());

    it('offers only templates whose matching is linear', () => {
      if (!served) {
        // No resources at all: nothing to match, and reads are unknown methods (below).
        expect(target.c.client.getServerCapabilities()?.resources).toBeUndefined();
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
        const answer = await timed(() => target.c.client.readResource({ uri }, options));
        expect(answer.ms, label).toBeLessThan(BOUND_MS);
        if (uri.length > CAP) expect(answer.code, label).toBeTypeOf('number');
        // Past the cap a template's URI is refused by core itself (typed, audited), never by the SDK's matcher.
        if (
          uri.length > CAP &&
          fromTemplates.has(label) &&
          uri.startsWith(label.split(': ')[0]!.split('{')[0]!)
        )
          expect(answer.code, label).toBe(-32602);
        if (!served) expect(answer.code, label).toBe(-32601);
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
              target.c.client.complete(
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
      const { client } = target.c;
      expect((await client.listTools(undefined, options)).tools.length).toBeGreaterThan(0);
      if (templates.length > 0) {
        expect((await client.listResourceTemplates(undefined, options)).resourceTemplates).toEqual(templates);
        const first = statics[0];
        expect(first).toBeDefined();
        const read = await client.readResource({ uri: first!.uri }, options);
        expect(read.contents.length).toBeGreaterThan(0);
      }
      const lines = readFileSync(target.auditFile, { encoding: 'utf8', flag: 'a+' })
        .split('\n')
        .filter(Boolean);
      for (const line of lines) expect(line.length).toBeLessThan(8 * 1024);
      expect(target.c.stderr()).not.toMatch(/unhandled|FATAL/i);
    });
  });
}
