/** Manifest generation from --help text; the bundles themselves are checked in e2e/bundles.e2e.test.ts. */
import { describe, expect, it } from 'vitest';
import { manifestProblems, parseHelpEnvironment, userConfigFor } from './mcpb.ts';

/** How the manifest refers to a user_config value. */
const ref = (key: string) => `\${user_config.${key}}`;

describe('manifest generation', () => {
  it('reads the stdio environment from --help and stops at the HTTP section', () => {
    const env = parseHelpEnvironment(
      [
        'x-mcp 1.0.0 — x',
        '',
        'Environment:',
        '  X_API_URL     (required) Base URL',
        '  X_API_TOKEN   (required) Bearer token',
        '  X_SCOPES      Comma-separated scopes',
        '',
        'Environment for --transport http:',
        '  X_HTTP_PORT   HTTP port',
      ].join('\n'),
    );
    expect(env).toEqual([
      { name: 'X_API_URL', required: true, description: 'Base URL' },
      { name: 'X_API_TOKEN', required: true, description: 'Bearer token' },
      { name: 'X_SCOPES', required: false, description: 'Comma-separated scopes' },
    ]);
    const { userConfig, mcpEnv } = userConfigFor(env, [{ name: 'X_SCOPES', format: 'string' }]);
    expect(userConfig.api_token).toMatchObject({ type: 'string', required: true, sensitive: true });
    expect(userConfig.api_url?.sensitive).toBeUndefined();
    // Optional values default to empty (unset for the server), never a literal placeholder.
    expect(userConfig.scopes).toMatchObject({ required: false, default: '' });
    expect(mcpEnv).toEqual({
      X_API_URL: ref('api_url'),
      X_API_TOKEN: ref('api_token'),
      X_SCOPES: ref('scopes'),
    });
  });

  it('rejects what mcpb rejects', () => {
    expect(manifestProblems({ manifest_version: '0.2', name: 'x' }).join('\n')).toMatch(/version|author/);
  });
});
