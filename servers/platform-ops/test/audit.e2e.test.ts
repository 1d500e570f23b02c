/**
 * The audit trail as the binary keeps it (issue #14): one writer per file, a
 * dead writer's lock taken over, every start-up mistake about the trail one
 * line on stderr and exit 2, and verify-audit naming what a cut log is missing.
 */
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { initializeLine } from '@gatehouse/bench/protocol';
import { connectV2, runCli, spawnRaw } from '@gatehouse/core/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BIN, type Harness, HEALTH_CALL, startHarness } from './harness.ts';

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(() => h.close());

/** A server env whose state folder (keys, anchors: the defaults) is a scratch folder, not the user's. */
/** The harness's env with the trail's folders left to their defaults, under a state home of its own. */
function serverEnv(extra: Record<string, string> = {}) {
  const {
    PLATFORM_OPS_AUDIT_KEY_DIR: _keys,
    PLATFORM_OPS_AUDIT_ANCHOR_DIR: _anchors,
    ...env
  } = h.env({ XDG_STATE_HOME: mkdtempSync(join(tmpdir(), 'gatehouse-state-')) });
  return { ...env, ...extra } as typeof env & { PLATFORM_OPS_AUDIT_FILE: string };
}

/** A process that exits at once with exit code 2 and one line on stderr. */
async function refused(env: Record<string, string>): Promise<string> {
  const result = await runCli(BIN, [], env);
  expect(result).toMatchObject({ code: 2, stdout: '' });
  const lines = result.stderr.trimEnd().split('\n');
  expect(lines).toHaveLength(1);
  expect(result.stderr).not.toMatch(/\n\s+at /);
  return lines[0]!;
}

/** Starts a stdio server and waits until it answers: its trail is open and locked. */
async function running(env: Record<string, string>) {
  const peer = spawnRaw({ bin: BIN, env });
  peer.send(initializeLine(1));
  await peer.next((m) => m.id === 1);
  return peer;
}

describe('one writer', () => {
  it('refuses a second server on the same audit file with one line and exit 2 while the first runs', async () => {
    const env = serverEnv();
    const first = await running(env);
    try {
      const line = await refused(env);
      expect(line).toContain(
        `platform-ops-mcp: PLATFORM_OPS_AUDIT_FILE: ${env.PLATFORM_OPS_AUDIT_FILE} is being written by process ${first.child.pid} on `,
      );
      expect(line).toContain('one writer per file');
    } finally {
      expect(await first.close()).toBe(0);
    }
    // Let go at a clean exit: the next server starts.
    const next = await running(env);
    expect(await next.close()).toBe(0);
  });

  it('takes over the lock of a server that was killed, saying so on stderr', async () => {
    const env = serverEnv();
    const killed = await running(env);
    killed.child.kill('SIGKILL');
    await new Promise((resolve) => killed.child.once('exit', resolve));
    const after = await running(env);
    try {
      expect(after.stderr()).toContain('audit lock left by a dead process taken over');
      expect(after.stderr()).toContain(`"pid":${killed.child.pid}`);
    } finally {
      expect(await after.close()).toBe(0);
    }
  });
});

describe('start-up mistakes about the trail are one line, exit 2', () => {
  it('names an audit folder that cannot be made', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'gatehouse-audit-'));
    writeFileSync(join(dir, 'not-a-folder'), '');
    const inTheWay = join(dir, 'not-a-folder', 'logs', 'audit.jsonl');
    expect(await refused(serverEnv({ PLATFORM_OPS_AUDIT_FILE: inTheWay }))).toBe(
      `platform-ops-mcp: PLATFORM_OPS_AUDIT_FILE: cannot create the folder ${join(dir, 'not-a-folder', 'logs')} (${join(dir, 'not-a-folder')} is a file) (see platform-ops-mcp --help)`,
    );
    expect(await refused(serverEnv({ PLATFORM_OPS_AUDIT_FILE: '/proc/gatehouse/audit.jsonl' }))).toContain(
      'PLATFORM_OPS_AUDIT_FILE: cannot create the folder /proc/gatehouse (ENOENT)',
    );
  });

  it('names a folder given as the file', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'gatehouse-audit-'));
    expect(await refused(serverEnv({ PLATFORM_OPS_AUDIT_FILE: dir }))).toContain(
      `PLATFORM_OPS_AUDIT_FILE: ${dir} is a folder, not a file`,
    );
  });

  it('names a key file or key folder that cannot be used', async () => {
    const keys = mkdtempSync(join(tmpdir(), 'gatehouse-keys-'));
    mkdirSync(join(keys, 'audit.key'));
    expect(await refused(serverEnv({ PLATFORM_OPS_AUDIT_KEY_DIR: keys }))).toContain(
      `PLATFORM_OPS_AUDIT_KEY_DIR: cannot read the key file ${join(keys, 'audit.key')} (EISDIR)`,
    );
    expect(await refused(serverEnv({ PLATFORM_OPS_AUDIT_KEY_DIR: '/proc/gatehouse-keys' }))).toContain(
      'PLATFORM_OPS_AUDIT_KEY_DIR: cannot create the folder /proc/gatehouse-keys (ENOENT)',
    );
  });
});

describe('verify-audit', () => {
  it('passes an intact trail with the printed public key, and fails a cut one naming what is missing', async () => {
    const env = serverEnv();
    const c = await connectV2({ bin: BIN, env });
    try {
      for (let i = 0; i < 3; i++) await c.client.callTool(HEALTH_CALL);
    } finally {
      await c.close();
    }
    const file = env.PLATFORM_OPS_AUDIT_FILE;
    const publicKey = /"publicKey":"([A-Za-z0-9+/=]+)"/.exec(c.stderr())?.[1];
    expect(publicKey).toBeDefined();
    const verifyEnv = { XDG_STATE_HOME: env.XDG_STATE_HOME! };
    const intact = await runCli(BIN, ['verify-audit', '--public-key', publicKey!, file], verifyEnv);
    expect(intact).toMatchObject({ code: 0 });
    const closing =
      /^ok: 3 events, chain intact; checkpoint (\d+) \(.*, close\) vouches for 3, signed\n/.exec(
        intact.stdout,
      )?.[1];
    expect(closing, intact.stdout).toBeDefined();
    expect(intact.stdout).toContain(`residual window: 0 record(s) after checkpoint ${closing}`);

    const lines = readFileSync(file, 'utf8').trimEnd().split('\n');
    writeFileSync(file, `${lines[0]}\n`);
    const cut = await runCli(BIN, ['verify-audit', file], verifyEnv);
    expect(cut.code).toBe(1);
    expect(cut.stdout).toContain(
      `broken: log ends at record 1, checkpoint ${closing} vouches for 3 records (2 missing: cut or emptied)`,
    );
    // The server will not continue that log (its new checkpoints would vouch for what is left).
    expect(await refused(env)).toContain(
      `no longer matches its anchors: it holds 1 records, checkpoint ${closing}`,
    );
  });

  it('checks the replicas’ files at once', async () => {
    const state = mkdtempSync(join(tmpdir(), 'gatehouse-state-'));
    const template = join(h.dir, 'replicated-audit-{replica}.jsonl');
    for (const replica of ['r1', 'r2']) {
      const env = serverEnv({
        XDG_STATE_HOME: state,
        PLATFORM_OPS_AUDIT_FILE: template,
        PLATFORM_OPS_AUDIT_REPLICA: replica,
      });
      const c = await connectV2({ bin: BIN, env });
      try {
        await c.client.callTool(HEALTH_CALL);
      } finally {
        await c.close();
      }
    }
    const files = ['r1', 'r2'].map((r) => join(h.dir, `replicated-audit-${r}.jsonl`));
    const result = await runCli(BIN, ['verify-audit', ...files], { XDG_STATE_HOME: state });
    expect(result).toMatchObject({ code: 0 });
    for (const file of files) expect(result.stdout).toContain(`${file}: ok: 1 events, chain intact`);
  });
});
