import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { ConfigError, loadConfig } from './env.ts';

const options = {
  prefix: 'DEMO',
  server: 'demo',
  upstream: 'required' as const,
  extra: z.object({ DEMO_LIMIT: z.coerce.number().int().max(10).default(3) }),
};

describe('loadConfig', () => {
  it('applies safe defaults and freezes the result', () => {
    const config = loadConfig(options, { DEMO_API_URL: 'http://127.0.0.1:1', DEMO_API_TOKEN: 't' });
    expect(config).toMatchObject({
      scopes: ['demo:read'],
      readOnly: false,
      approvalMode: 'elicit',
      timeoutMs: 10_000,
      env: { DEMO_LIMIT: 3 },
    });
    expect(Object.isFrozen(config)).toBe(true);
  });

  it('parses lists, booleans and _FILE secrets', () => {
    const file = join(mkdtempSync(join(tmpdir(), 'cfg-')), 'token');
    writeFileSync(file, 'from-file\n');
    const config = loadConfig(options, {
      DEMO_API_URL: 'https://api.example',
      DEMO_API_TOKEN_FILE: file,
      DEMO_SCOPES: 'demo:read, demo:write',
      DEMO_READ_ONLY: 'true',
    });
    expect(config.upstream).toEqual({ url: 'https://api.example', token: 'from-file' });
    expect(config.scopes).toEqual(['demo:read', 'demo:write']);
    expect(config.readOnly).toBe(true);
  });

  it.each([
    [{}, 'DEMO_API_URL is required'],
    [{ DEMO_API_URL: 'http://x' }, 'DEMO_API_TOKEN is required'],
    [{ DEMO_API_URL: 'file:///etc/passwd', DEMO_API_TOKEN: 't' }, 'DEMO_API_URL is invalid'],
    [{ DEMO_API_URL: 'http://x', DEMO_API_TOKEN: 't', DEMO_LIMIT: '99' }, 'DEMO_LIMIT is invalid'],
    [
      { DEMO_API_URL: 'http://x', DEMO_API_TOKEN: 't', DEMO_APPROVAL_MODE: 'yolo' },
      'DEMO_APPROVAL_MODE is invalid',
    ],
  ])('names the variable at fault: %j', (env, message) => {
    expect(() => loadConfig(options, env)).toThrow(ConfigError);
    expect(() => loadConfig(options, env)).toThrow(message);
  });
});
