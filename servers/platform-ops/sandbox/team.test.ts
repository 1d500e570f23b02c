/**
 * The platform API's own per-user rule, as the sandbox plays it: with a user token (exchanged at a
 * real authorization server, verified by the sandbox) an engineer may roll back only their team's
 * services; the service token keeps acting for everyone.
 */
import { type AuthorizationServer, startAuthorizationServer } from '@gatehouse/core/testing';
import { type Sandbox, startSandbox } from '@gatehouse/sandbox';
import { call } from '@gatehouse/sandbox/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const MCP = 'https://platform-ops.gatehouse.test/mcp';
const CLIENT = { clientId: 'platform-ops-mcp', clientSecret: 'platform-ops-secret-0123456789' };
const exchange = { from: [MCP], to: [] as string[] };
let as: AuthorizationServer;
let sb: Sandbox;

beforeAll(async () => {
  as = await startAuthorizationServer({
    scopes: ['platform-ops:write'],
    clients: [{ ...CLIENT, grantTypes: [], exchange }],
  });
  sb = await startSandbox({
    identity: { issuer: as.issuer, jwksUri: as.jwksUri, actors: { 'platform-ops': CLIENT.clientId } },
  });
  exchange.to.push(sb.url);
});
afterAll(async () => {
  await sb?.close();
  await as?.close();
});

/** The user's token for the MCP server, exchanged as the server would for one to the sandbox. */
async function upstreamToken(sub: string, groups: string[]): Promise<string> {
  const subject = await as.accessToken({ sub, scope: 'platform-ops:write', audience: MCP, groups });
  const response = await fetch(as.tokenEndpoint, {
    method: 'POST',
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      authorization: `Basic ${Buffer.from(`${CLIENT.clientId}:${CLIENT.clientSecret}`).toString('base64')}`,
    },
    body: new URLSearchParams({
      grant_type: 'urn:ietf:params:oauth:grant-type:token-exchange',
      subject_token: subject,
      subject_token_type: 'urn:ietf:params:oauth:token-type:access_token',
      audience: sb.url,
    }),
  });
  return ((await response.json()) as { access_token: string }).access_token;
}

describe('platform-ops: rollbacks per team (user tokens)', () => {
  it("lets an engineer roll back their team's service and refuses another team's", async () => {
    const service = await call(sb, '/platform/v1/services/payments-gateway', {
      token: sb.tokens['platform-ops'],
    });
    const team = String(service.json.owner.team);
    const body = { environment: 'staging', reason: 'error rate doubled after the deploy' };
    const rollback = async (groups: string[], key: string) =>
      call(sb, '/platform/v1/services/payments-gateway/rollbacks', {
        token: await upstreamToken('erin', groups),
        body,
        headers: { 'idempotency-key': key },
      });
    const other = await rollback(['team:someone-else'], 'k-other');
    expect(other.status).toBe(403);
    expect(other.json.error).toBe('forbidden');
    const own = await rollback([`team:${team}`], 'k-own');
    expect(own.status).toBe(201);
  });

  it('refuses a token that is not for this API, or names no actor', async () => {
    const inbound = await as.accessToken({ sub: 'erin', scope: 'platform-ops:write', audience: MCP });
    const refused = await call(sb, '/platform/v1/services', { token: inbound });
    expect(refused.status).toBe(401);
    const noActor = await as.accessToken({ sub: 'erin', scope: 'platform-ops:write', audience: sb.url });
    expect((await call(sb, '/platform/v1/services', { token: noActor })).status).toBe(401);
  });
});
