import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { loadConfig } from './config/env.ts';
import { Authenticator } from './http/auth.ts';
import { loadHttpSettings } from './http/settings.ts';
import { keysCommand } from './keys-command.ts';
import { createLogger } from './telemetry/logger.ts';

const TARGET = { prefix: 'X', server: 'x', scopes: ['x:read', 'x:write'] };

async function made(args: string[]): Promise<string> {
  const outcome = await keysCommand(TARGET, args);
  if (outcome.code !== 0) throw new Error(outcome.error);
  return outcome.stdout;
}

describe('keys new', () => {
  it('makes an API key the server accepts through the keys-file entry it prints, with the scopes asked for', async () => {
    const out = await made(['new', 'api-key', '--name', 'ci-bot', '--scopes', 'x:read,x:write']);
    const lines = out.split('\n');
    const key = lines.find((line) => line.startsWith('gh_'))!;
    expect(key).toMatch(/^gh_[A-Za-z0-9_-]{43}$/);
    // Shown once: the key itself appears on one line only; the entry holds its digest.
    expect(lines.filter((line) => line.includes(key))).toHaveLength(1);
    const entry = JSON.parse(lines.find((line) => line.startsWith('{'))!);
    expect(entry).toMatchObject({ name: 'ci-bot', scopes: ['x:read', 'x:write'] });
    expect(out).toContain('Authorization: Bearer <key>');
    expect(out).toContain('X_API_KEYS_FILE');

    const file = join(mkdtempSync(join(tmpdir(), 'keys-')), 'keys.json');
    writeFileSync(file, JSON.stringify([entry]));
    const settings = loadHttpSettings(
      'X',
      { X_API_KEYS_FILE: file, X_PUBLIC_URL: 'https://x.example/mcp' },
      { noAuth: false },
    );
    const auth = new Authenticator({
      issuer: undefined,
      audience: settings.publicUrl!,
      apiKeys: settings.apiKeys,
      log: createLogger({ name: 'x', level: 'silent' }),
    });
    const info = await auth.verifyAccessToken(key);
    expect(info).toMatchObject({ clientId: 'ci-bot', scopes: ['x:read', 'x:write'] });
    await expect(auth.verifyAccessToken(`${key}x`)).rejects.toThrow();
  });

  it('defaults an API key to the read scope, and makes each key different', async () => {
    const a = await made(['new', 'api-key']);
    const b = await made(['new', 'api-key']);
    expect(a).toContain('"scopes":["x:read"]');
    expect(a).toContain('"name":"client"');
    expect(a).not.toBe(b);
  });

  it.each([
    ['state-key', 'X_STATE_KEY', 32],
    ['audit-key', 'X_AUDIT_KEY', 16],
    ['metrics-token', 'X_METRICS_TOKEN', 16],
  ])('makes a %s the server takes as %s', async (kind, variable, minimum) => {
    const out = await made(['new', kind]);
    const value = new RegExp(`^${variable}=(\\S+)$`, 'm').exec(out)?.[1] ?? '';
    expect(value.length).toBeGreaterThanOrEqual(Math.max(minimum, 43));
    expect(out).toContain(`${variable}_FILE`);
    if (kind !== 'metrics-token') {
      const config = loadConfig(
        { prefix: 'X', server: 'x', upstream: 'optional', extra: z.object({}) },
        { [variable]: value },
      );
      expect(kind === 'state-key' ? config.stateKey : config.auditKey).toBe(value);
    } else expect(loadHttpSettings('X', { [variable]: value }, { noAuth: true }).metricsToken).toBe(value);
  });

  it.each([
    [['new', 'ssh-key'], /unknown kind "ssh-key"; one of api-key, state-key, audit-key, metrics-token/],
    [['new'], /^usage: keys new api-key\|state-key\|audit-key\|metrics-token/],
    [['rotate', 'api-key'], /^usage: keys new/],
    [
      ['new', 'api-key', '--scopes', 'x:admin'],
      /unknown scope "x:admin" \(this server knows x:read, x:write\)/,
    ],
    [['new', 'api-key', '--name', 'bad name'], /--name "bad name" must be/],
    [['new', 'state-key', '--name', 'a'], /for api-key only/],
    [['new', 'api-key', '--bogus'], /^keys: Unknown option '--bogus'/],
  ])('refuses %j with one line', async (args, message) => {
    const outcome = await keysCommand(TARGET, args);
    expect(outcome.code).toBe(2);
    const error = (outcome as { error: string }).error;
    expect(error).toMatch(message);
    expect(error).not.toContain('\n');
  });
});
