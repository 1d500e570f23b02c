/**
 * The index at scale (15,000 files): searches that arrive before the first build wait for it with
 * progress, or give up typed and retryable. In-process, but seconds of CPU to write and index the
 * folder, so it runs with `pnpm test` rather than in the fast tier.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { connectV2, errorOf } from '@gatehouse/core/testing';
import { beforeAll, describe, expect, it } from 'vitest';
import { fileHarness, structured } from '../../test/harness.ts';
import docs from '../index.ts';

const h = fileHarness();

describe('searches that arrive before the first build', () => {
  let big: string;
  beforeAll(() => {
    big = join(h.dir, 'big');
    const filler =
      'Capacity planning notes for the storage tier, with throughput and latency targets. '.repeat(12);
    for (let d = 0; d < 60; d++) {
      mkdirSync(join(big, `area-${d}`), { recursive: true });
      for (let f = 0; f < 250; f++) {
        writeFileSync(
          join(big, `area-${d}`, `note-${f}.md`),
          `---\ntitle: Note ${d}-${f}\n---\n# Note ${d}-${f}\n\n${filler}\n${d === 59 && f === 249 ? 'The last note mentions the narwhal.' : ''}\n`,
        );
      }
    }
  });

  // The wait is what is tested, not how fast 15,000 files index on a loaded machine: the server may
  // wait up to 40 s (DOCS_INDEX_WAIT_MS) before its typed refusal, which the next case covers.
  it('waits for the index, reporting progress, then answers', { timeout: 60_000 }, async () => {
    const c = await connectV2({
      server: docs,
      env: h.env({ DOCS_ROOT: big, DOCS_API_URL: '', DOCS_API_TOKEN: '', DOCS_INDEX_WAIT_MS: '40000' }),
    });
    try {
      const progress: Array<{ progress: number; total?: number; message?: string }> = [];
      const result = await c.client.callTool(
        { name: 'search_docs', arguments: { query: 'narwhal' } },
        { onprogress: (p) => progress.push(p), timeout: 45_000 },
      );
      const out = structured(result);
      expect(out.results.map((r: { id: string }) => r.id)).toEqual(['local:area-59/note-249']);
      expect(progress.length).toBeGreaterThan(0);
      expect(progress.at(-1)!.message).toMatch(/indexing the local docs folder/);
      expect(progress.some((p) => p.total === 15_000)).toBe(true);
    } finally {
      await c.close();
    }
  });

  it('gives up after DOCS_INDEX_WAIT_MS with a typed, retryable error', async () => {
    const c = await connectV2({
      server: docs,
      env: h.env({ DOCS_ROOT: big, DOCS_API_URL: '', DOCS_API_TOKEN: '', DOCS_INDEX_WAIT_MS: '200' }),
    });
    try {
      const result = await c.client.callTool({ name: 'search_docs', arguments: { query: 'narwhal' } });
      expect(errorOf(result)).toMatchObject({ code: 'UPSTREAM_TIMEOUT', retryable: true });
      expect(JSON.stringify(result.content)).toMatch(/still being built/);
      let out: { results: Array<{ id: string }> } | undefined;
      for (let i = 0; i < 200 && !out; i++) {
        const retry = await c.client.callTool({ name: 'search_docs', arguments: { query: 'narwhal' } });
        if (!retry.isError) out = structured(retry);
        else await new Promise((r) => setTimeout(r, 100));
      }
      expect(out?.results.map((r) => r.id)).toEqual(['local:area-59/note-249']);
    } finally {
      await c.close();
    }
  });
});
