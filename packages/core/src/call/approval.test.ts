/**
 * Two-step approvals as the HTTP transport serves them: bound to the principal's kind and id
 * (an API key and an OAuth subject of the same name cannot redeem each other's), and valid for one
 * lifetime — what the caller is told is what the server honours.
 */
import { createHash } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { OAuth2Server } from 'oauth2-mock-server';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { type Harness, SCOPES, startHarness } from '../testing/fixture/harness.ts';
import {
  type HttpServer,
  legacyCall,
  MCP_HEADERS,
  PUBLIC_URL,
  rpcBody,
  startHttp,
  startIssuer,
  tokenFor,
} from '../testing/fixture/http.ts';
import { fixture } from '../testing/fixture/server.ts';
import { connectV2, errorOf, readAudit } from '../testing/index.ts';

const WRITE = [SCOPES.read, SCOPES.write];
const ALICE_KEY = 'key-alice-approval-0f1e2d3c4b5a6978';
const ACT = { item: 'orders-api', environment: 'staging', reason: 'drain before the maintenance window' };
const V = { 'mcp-protocol-version': '2025-11-25' };

interface ToolResult {
  isError?: boolean;
  content?: Array<{ text: string }>;
  _meta?: Record<string, unknown>;
}

let h: Harness;
let issuer: OAuth2Server;
let server: HttpServer;
let auditFile: string;

async function call(bearer: string, args: Record<string, unknown>): Promise<ToolResult> {
  const response = await fetch(server.url, {
    method: 'POST',
    headers: { ...MCP_HEADERS, ...V, authorization: `Bearer ${bearer}` },
    body: legacyCall(1, 'act_on_item', args),
  });
  expect(response.status).toBe(200);
  return (await rpcBody(response)).result as ToolResult;
}

const tokenOf = (result: ToolResult) =>
  (errorOf(result)?.details as { approvalToken?: string } | undefined)?.approvalToken;

beforeAll(async () => {
  h = await startHarness();
  issuer = await startIssuer();
  const keys = join(h.dir, 'keys.json');
  // An API key named "alice" — the same id as the OAuth subject below.
  writeFileSync(
    keys,
    JSON.stringify([
      { name: 'alice', sha256: createHash('sha256').update(ALICE_KEY).digest('hex'), scopes: WRITE },
    ]),
  );
  const env = h.env({
    FIXTURE_OAUTH_ISSUER: issuer.issuer.url!,
    FIXTURE_PUBLIC_URL: PUBLIC_URL,
    FIXTURE_API_KEYS_FILE: keys,
    FIXTURE_APPROVAL_MODE: 'two-step',
    FIXTURE_STATE_KEY: 'state-key-for-approval-tests-0123456789abcdef',
  });
  auditFile = env.FIXTURE_AUDIT_FILE;
  server = await startHttp(fixture, { env });
});
afterAll(async () => {
  await server?.close();
  await issuer?.stop();
  await h?.close();
});

describe('two-step approvals over HTTP', () => {
  it('warn at start that the model can redeem its own token (development only)', () => {
    expect(server.stderr()).toMatch(/two-step approval is a development mode.*token_approved/);
  });

  it('bind to the principal kind and id: an OAuth subject cannot redeem an API key of the same name', async () => {
    const planned = await call(ALICE_KEY, ACT);
    expect(errorOf(planned)?.code).toBe('APPROVAL_REQUIRED');
    const token = tokenOf(planned);
    expect(token).toBeTypeOf('string');

    const oauthAlice = await tokenFor(issuer, { sub: 'alice', scope: WRITE.join(' ') });
    const stolen = await call(oauthAlice, { ...ACT, approval_token: token });
    expect(errorOf(stolen)?.code).toBe('DENIED');
    expect(stolen.content?.[0]?.text).toContain('different tool, arguments or caller');

    // The key that asked still can, once.
    const redeemed = await call(ALICE_KEY, { ...ACT, approval_token: token });
    expect(redeemed.isError, JSON.stringify(redeemed)).toBeFalsy();
    const acts = readAudit(auditFile).filter((r) => r.name === 'act_on_item');
    expect(acts.map((r) => [(r.principal as { kind: string }).kind, r.decision, r.outcome])).toEqual([
      ['api-key', 'approval_requested', 'pending'],
      ['oauth', 'denied', 'error'],
      ['api-key', 'token_approved', 'ok'],
    ]);
  });

  it('say 300 s by default, and honour exactly that', async () => {
    const planned = await call(ALICE_KEY, {
      ...ACT,
      reason: 'lifetime check, default three hundred seconds',
    });
    const details = errorOf(planned)?.details as { expiresInSeconds?: number };
    expect(details.expiresInSeconds).toBe(300);
    expect(planned.content?.[0]?.text).toContain('valid 300 s');
  });
});

describe('the approval lifetime (<P>_APPROVAL_TTL_S)', () => {
  it('is what the token says and what the server honours, in-process over stdio semantics too', async () => {
    const env = h.env({
      FIXTURE_SCOPES: WRITE.join(','),
      FIXTURE_APPROVAL_MODE: 'two-step',
      FIXTURE_APPROVAL_TTL_S: '60',
    });
    const c = await connectV2({ server: fixture, env, approval: 'none' });
    try {
      const args = { ...ACT, reason: 'lifetime check at sixty seconds' };
      const planned = await c.client.callTool({ name: 'act_on_item', arguments: args });
      const error = errorOf(planned);
      expect(error?.code).toBe('APPROVAL_REQUIRED');
      const details = error?.details as { expiresInSeconds?: number; approvalToken?: string } | undefined;
      expect(details?.expiresInSeconds).toBe(60);
      const token = details?.approvalToken;
      vi.useFakeTimers({ toFake: ['Date'], now: Date.now() + 61_000 });
      try {
        const late = await c.client.callTool({
          name: 'act_on_item',
          arguments: { ...args, approval_token: token },
        });
        expect(errorOf(late)?.code).toBe('DENIED');
        expect(errorOf(late)?.message).toContain('invalid or expired');
      } finally {
        vi.useRealTimers();
      }
    } finally {
      await c.close();
    }
  });
});
