/**
 * What only the built binary can show about `--transport http`: its start-up refusals end the
 * process with exit code 2 and one line on stderr, nothing on stdout. Everything else the HTTP front
 * does is tested in-process in @gatehouse/core (packages/core/src/http/*.test.ts).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BIN, type Harness, startHarness } from './harness.ts';
import { runToExit } from './http-harness.ts';

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(() => h?.close());

describe('start-up rules', () => {
  it('refuses to serve without auth beyond loopback, and without any credential source', async () => {
    const beyond = await runToExit(BIN, h.env(), ['--transport', 'http', '--no-auth', '--host', '0.0.0.0']);
    expect(beyond.code).toBe(2);
    expect(beyond.stderr).toContain('--no-auth needs a loopback bind');
    expect(beyond.stdout).toBe('');
    const noCreds = await runToExit(BIN, h.env(), ['--transport', 'http']);
    expect(noCreds.code).toBe(2);
    expect(noCreds.stderr).toContain('--transport http needs authentication');
  });
});
