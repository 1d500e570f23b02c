/**
 * What only the real process shows: stdout purity and raw bytes, exit codes and
 * the command line, secrets read from files by the binary's start-up, the
 * audit verifier's CLI and the binary's stderr. Everything else about
 * platform-ops' behaviour is tested in-process, beside the code under src/.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { initializeLine } from '@gatehouse/bench/protocol';
import { connectV1, connectV2, runCli, spawnRaw } from '@gatehouse/core/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ALL_SCOPES, BIN, CANARY, type Harness, startHarness } from './harness.ts';

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(() => h.close());

const runBin = (args: string[], env: Record<string, string>) => runCli(BIN, args, env);

const INIT = initializeLine(1);

describe('the stdio channel', () => {
  it('carries only JSON-RPC on stdout, answers garbage with -32700 and keeps serving', async () => {
    const peer = spawnRaw({ bin: BIN, env: h.env() });
    try {
      peer.send(INIT);
      await peer.next((m) => m.id === 1);
      peer.send(JSON.stringify({ jsonrpc: '2.0', method: 'notifications/initialized' }));
      peer.send('this is not json');
      const parseError = await peer.next((m) => (m.error as { code?: number } | undefined)?.code === -32700);
      expect(parseError.id).toBeNull();
      peer.send(JSON.stringify({ jsonrpc: '2.0', id: 2, method: 'tools/list' }));
      const list = await peer.next((m) => m.id === 2);
      expect((list.result as { tools: unknown[] }).tools.length).toBe(4);
      peer.send(JSON.stringify({ jsonrpc: '2.0', id: 3, method: 'no/such/method' }));
      expect(((await peer.next((m) => m.id === 3)).error as { code: number }).code).toBe(-32601);
      peer.send(
        JSON.stringify({
          jsonrpc: '2.0',
          id: 4,
          method: 'tools/call',
          params: { name: 'get_service_health', arguments: { service: 'checkout-api' } },
        }),
      );
      expect((await peer.next((m) => m.id === 4)).result).toBeDefined();
      for (const line of peer.lines) expect(JSON.parse(line)).toMatchObject({ jsonrpc: '2.0' });
    } finally {
      expect(await peer.close()).toBe(0);
    }
  });
});

describe('start-up', () => {
  it('answers --version and --help without credentials', async () => {
    const version = await runBin(['--version'], {});
    expect(version).toMatchObject({
      code: 0,
      stdout: `${JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')).version}\n`,
    });
    const help = await runBin(['--help'], {});
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('PLATFORM_OPS_API_TOKEN');
    expect(help.stdout).toContain('platform-ops:prod');
  });

  it.each([
    [{}, 'PLATFORM_OPS_API_URL is required'],
    [{ PLATFORM_OPS_API_URL: 'http://127.0.0.1:1' }, 'PLATFORM_OPS_API_TOKEN is required'],
    [{ PLATFORM_OPS_API_URL: 'ftp://x', PLATFORM_OPS_API_TOKEN: 't' }, 'PLATFORM_OPS_API_URL is invalid'],
    [
      {
        PLATFORM_OPS_API_URL: 'http://127.0.0.1:1',
        PLATFORM_OPS_API_TOKEN: 't',
        PLATFORM_OPS_TIMEOUT_MS: 'soon',
      },
      'PLATFORM_OPS_TIMEOUT_MS is invalid',
    ],
    [
      { PLATFORM_OPS_API_URL: 'http://127.0.0.1:1', PLATFORM_OPS_API_TOKEN_FILE: '/nonexistent/token' },
      'PLATFORM_OPS_API_TOKEN_FILE: cannot read',
    ],
    // A mistyped name fails closed, naming the nearest valid one (a deny list would otherwise fail open).
    [
      {
        PLATFORM_OPS_API_URL: 'http://127.0.0.1:1',
        PLATFORM_OPS_API_TOKEN: 't',
        PLATFORM_OPS_DENY_TOOLS: 'rolback_deploy',
      },
      'PLATFORM_OPS_DENY_TOOLS names an unknown tool "rolback_deploy" (did you mean "rollback_deploy"?)',
    ],
    [
      {
        PLATFORM_OPS_API_URL: 'http://127.0.0.1:1',
        PLATFORM_OPS_API_TOKEN: 't',
        PLATFORM_OPS_ALLOW_TOOLS: 'get_service_healt',
      },
      'PLATFORM_OPS_ALLOW_TOOLS names an unknown tool "get_service_healt" (did you mean "get_service_health"?)',
    ],
    [
      {
        PLATFORM_OPS_API_URL: 'http://127.0.0.1:1',
        PLATFORM_OPS_API_TOKEN: 't',
        PLATFORM_OPS_SCOPES: 'platform-ops:read,platform-ops:wirte',
      },
      'PLATFORM_OPS_SCOPES names an unknown scope "platform-ops:wirte" (did you mean "platform-ops:write"?)',
    ],
    [
      {
        PLATFORM_OPS_API_URL: 'http://127.0.0.1:1',
        PLATFORM_OPS_API_TOKEN: 't',
        PLATFORM_OPS_TOOLSETS: 'health,deploy',
      },
      'PLATFORM_OPS_TOOLSETS names an unknown toolset "deploy" (did you mean "deploys"?)',
    ],
    [
      {
        PLATFORM_OPS_API_URL: 'http://127.0.0.1:1',
        PLATFORM_OPS_API_TOKEN: 't',
        PLATFORM_OPS_APPROVAL_TTL_S: '5',
      },
      'PLATFORM_OPS_APPROVAL_TTL_S is invalid',
    ],
  ])('refuses bad configuration with one clear line: %j', async (env, line) => {
    const result = await runBin([], env as Record<string, string>);
    expect(result.code).toBe(2);
    expect(result.stdout).toBe('');
    expect(result.stderr.split('\n')[0]).toContain(line);
  });

  it('reads secrets from <NAME>_FILE', async () => {
    const tokenFile = join(h.dir, 'token');
    writeFileSync(tokenFile, `${h.sandbox.tokens['platform-ops']}\n`);
    const { PLATFORM_OPS_API_TOKEN: _unused, ...env } = h.env();
    const c = await connectV1({ bin: BIN, env: { ...env, PLATFORM_OPS_API_TOKEN_FILE: tokenFile } });
    try {
      expect(
        (await c.client.callTool({ name: 'get_service_health', arguments: { service: 'checkout-api' } }))
          .isError,
      ).toBeFalsy();
    } finally {
      await c.close();
    }
  });
});

describe('audit trail', () => {
  it('chains every event so that verify-audit names the first tampered line', async () => {
    const env = h.env();
    const c = await connectV2({ bin: BIN, env });
    try {
      for (const service of ['checkout-api', 'payments-gateway', 'no-such-service'])
        await c.client.callTool({ name: 'get_service_health', arguments: { service } });
    } finally {
      await c.close();
    }
    const file = env.PLATFORM_OPS_AUDIT_FILE;
    // verify-audit finds the key and the checkpoints where the server put them.
    const trail = {
      PLATFORM_OPS_AUDIT_KEY_DIR: env.PLATFORM_OPS_AUDIT_KEY_DIR!,
      PLATFORM_OPS_AUDIT_ANCHOR_DIR: env.PLATFORM_OPS_AUDIT_ANCHOR_DIR!,
    };
    // The generated key lives in a key folder apart from the log (issue #14), never beside it.
    expect(existsSync(`${file}.key`)).toBe(false);
    const ok = await runBin(['verify-audit', file], trail);
    expect(ok).toMatchObject({ code: 0 });
    expect(ok.stdout).toContain('3 events');
    const lines = readFileSync(file, 'utf8').trimEnd().split('\n');
    writeFileSync(
      file,
      `${[lines[0], lines[1]!.replace('payments-gateway', 'checkout-apix'), lines[2]].join('\n')}\n`,
    );
    const edited = await runBin(['verify-audit', file], trail);
    expect(edited.code).toBe(1);
    expect(edited.stdout).toContain('event 2');
    writeFileSync(file, `${[lines[0], lines[2]].join('\n')}\n`);
    expect((await runBin(['verify-audit', file], trail)).stdout).toContain('event 2');
  });
});

describe('secrets', () => {
  it('never shows the upstream token in stdout, stderr, audit or results', async () => {
    expect(h.sandbox.tokens['platform-ops']).toBe(CANARY);
    const env = h.env({ PLATFORM_OPS_SCOPES: ALL_SCOPES, PLATFORM_OPS_LOG_LEVEL: 'trace' });
    const peerOutput: string[] = [];
    const c = await connectV2({ bin: BIN, env, approval: 'accept' });
    try {
      await h.control.setFaults([
        { path: '/platform/v1/services/payments-gateway/health', status: 500, times: 3 },
      ]);
      const calls = [
        { name: 'get_service_health', arguments: { service: 'checkout-api' } },
        { name: 'get_service_health', arguments: { service: 'payments-gateway' } },
        { name: 'get_deploy_context', arguments: { service: 'checkout-api' } },
        {
          name: 'rollback_deploy',
          arguments: {
            service: 'checkout-api',
            environment: 'staging',
            reason: `token ${CANARY} pasted by mistake`,
          },
        },
        { name: 'search_runbooks', arguments: { query: CANARY } },
      ];
      for (const call of calls) peerOutput.push(JSON.stringify(await c.client.callTool(call)));
    } finally {
      await h.control.clearFaults();
      await c.close();
    }
    expect(peerOutput.join('\n')).not.toContain(CANARY);
    expect(c.stderr()).not.toContain(CANARY);
    expect(c.stderr().length).toBeGreaterThan(0);
    const audit = readFileSync(env.PLATFORM_OPS_AUDIT_FILE, 'utf8');
    expect(audit).not.toContain(CANARY);
    expect(audit).toContain('[REDACTED]');
  });
});
