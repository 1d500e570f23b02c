/**
 * Hostile resource URIs (matrix #31) against the fixture server's templates, in this process: the
 * read path's 2,048-character cap, linear template matching, completions, and a trail that does not
 * grow with the URI (the checks themselves: testing/resource-uris.ts).
 */
import { afterAll, beforeAll } from 'vitest';
import { fixture, type Harness, startHarness } from '../testing/fixture/harness.ts';
import { connectV2 } from '../testing/index.ts';
import { describeResourceUris } from '../testing/resource-uris.ts';

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(() => h?.close());

describeResourceUris('fixture', async () => {
  const env = h.env({ FIXTURE_LOG_LEVEL: 'warn' });
  return { c: await connectV2({ server: fixture, env }), auditFile: env.FIXTURE_AUDIT_FILE };
});
