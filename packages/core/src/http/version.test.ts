/**
 * Protocol-version headers that disagree with the body (matrix #12), over
 * Streamable HTTP (the fixture's HTTP front in this process, `--no-auth` on
 * 127.0.0.1), stateless and
 * with 2025 sessions. Under 2026-07-28 every request carries its revision in
 * `params._meta["io.modelcontextprotocol/protocolVersion"]` and the
 * `MCP-Protocol-Version` header must match it: a disagreement is HTTP 400 with
 * -32020 (HeaderMismatch); a 2026 header on a body without the envelope is
 * HTTP 400 with -32602 naming the missing keys. Nothing is dispatched: no tool
 * runs, the upstream sees nothing, and a real client on the same server keeps
 * being served.
 */
import { Client, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  fixture,
  type Harness,
  STATUS_CALL as HEALTH_CALL,
  statusRequests as healthRequests,
  startHarness,
} from '../testing/fixture/harness.ts';
import { type HttpServer, MCP_HEADERS, startHttp } from '../testing/fixture/http.ts';
import { readAudit } from '../testing/index.ts';

const MODERN = '2026-07-28';
const HEADER_MISMATCH = -32020;
const INVALID_PARAMS = -32602;
const UNSUPPORTED_VERSION = -32022;

/** The 2026-07-28 per-request envelope, naming `version`. */
const envelope = (version: string) => ({
  'io.modelcontextprotocol/protocolVersion': version,
  'io.modelcontextprotocol/clientCapabilities': {},
});
const health = (meta?: Record<string, unknown>) => ({
  jsonrpc: '2.0',
  id: 7,
  method: 'tools/call',
  params: { ...HEALTH_CALL, ...(meta ? { _meta: meta } : {}) },
});
const list = (meta?: Record<string, unknown>) => ({
  jsonrpc: '2.0',
  id: 8,
  method: 'tools/list',
  params: meta ? { _meta: meta } : {},
});
const CALL_HEADERS = { 'mcp-method': 'tools/call', 'mcp-name': HEALTH_CALL.name };
const LIST_HEADERS = { 'mcp-method': 'tools/list' };

interface Case {
  label: string;
  headers: Record<string, string>;
  body: Record<string, unknown>;
  codes: number[];
}

const CASES: Case[] = [
  {
    label: 'a 2026 header on a body whose envelope names 2025-11-25',
    headers: { 'mcp-protocol-version': MODERN, ...CALL_HEADERS },
    body: health(envelope('2025-11-25')),
    codes: [HEADER_MISMATCH],
  },
  {
    label: 'a 2026 header on a body whose envelope names an unknown revision',
    headers: { 'mcp-protocol-version': MODERN, ...LIST_HEADERS },
    body: list(envelope('2099-01-01')),
    codes: [HEADER_MISMATCH],
  },
  {
    label: 'a 2026 header on a 2025-style tools/call without the envelope',
    headers: { 'mcp-protocol-version': MODERN, ...CALL_HEADERS },
    body: health(),
    codes: [INVALID_PARAMS],
  },
  {
    label: 'a 2026 header on an envelope missing clientCapabilities',
    headers: { 'mcp-protocol-version': MODERN, ...CALL_HEADERS },
    body: health({ 'io.modelcontextprotocol/protocolVersion': MODERN }),
    codes: [INVALID_PARAMS],
  },
  {
    label: 'a 2026 header on a 2025 initialize handshake',
    headers: { 'mcp-protocol-version': MODERN },
    body: {
      jsonrpc: '2.0',
      id: 9,
      method: 'initialize',
      params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'x', version: '1' } },
    },
    codes: [HEADER_MISMATCH],
  },
  {
    label: 'a 2025-11-25 header on a tools/call with the 2026 envelope',
    headers: { 'mcp-protocol-version': '2025-11-25', ...CALL_HEADERS },
    body: health(envelope(MODERN)),
    codes: [HEADER_MISMATCH],
  },
  {
    label: 'a 2025-06-18 header on a tools/list with the 2026 envelope',
    headers: { 'mcp-protocol-version': '2025-06-18', ...LIST_HEADERS },
    body: list(envelope(MODERN)),
    codes: [HEADER_MISMATCH],
  },
  {
    label: 'no header on a tools/call with the 2026 envelope',
    headers: CALL_HEADERS,
    body: health(envelope(MODERN)),
    codes: [HEADER_MISMATCH],
  },
  {
    label: 'a 2025-11-25 header on a notification with the 2026 envelope',
    headers: { 'mcp-protocol-version': '2025-11-25' },
    body: {
      jsonrpc: '2.0',
      method: 'notifications/cancelled',
      params: { requestId: 1, _meta: envelope(MODERN) },
    },
    codes: [HEADER_MISMATCH],
  },
  {
    label: 'an Mcp-Method header naming another method than the body',
    headers: { 'mcp-protocol-version': MODERN, 'mcp-method': 'tools/list' },
    body: health(envelope(MODERN)),
    codes: [HEADER_MISMATCH],
  },
  {
    // Both rules apply (unsupported header, and it disagrees with the body); either code is a 400.
    label: 'an unsupported header on a body with the 2026 envelope',
    headers: { 'mcp-protocol-version': '2099-01-01', ...LIST_HEADERS },
    body: list(envelope(MODERN)),
    codes: [HEADER_MISMATCH, UNSUPPORTED_VERSION],
  },
];

async function post(url: string, headers: Record<string, string>, body: unknown) {
  const response = await fetch(url, {
    method: 'POST',
    headers: { ...MCP_HEADERS, ...headers },
    body: JSON.stringify(body),
    signal: AbortSignal.timeout(10_000),
  });
  return {
    status: response.status,
    type: response.headers.get('content-type') ?? '',
    text: await response.text(),
  };
}

const MODES = [
  ['stateless', {}],
  ['with 2025 sessions', { FIXTURE_HTTP_SESSIONS: 'true' }],
] as const;

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(() => h?.close());

describe.each(MODES)('MCP-Protocol-Version against the body, %s', (_mode, extra) => {
  let server: HttpServer;
  let auditFile: string;
  let bystander: Client;
  let bystanderCalls = 0;

  beforeAll(async () => {
    const env = h.env({ FIXTURE_LOG_LEVEL: 'warn', ...extra });
    auditFile = env.FIXTURE_AUDIT_FILE;
    server = await startHttp(fixture, { env, noAuth: true });
    expect(new URL(server.url).hostname).toBe('127.0.0.1');
    bystander = new Client(
      { name: 'bystander', version: '1.0.0' },
      { versionNegotiation: { mode: { pin: MODERN } } },
    );
    await bystander.connect(new StreamableHTTPClientTransport(new URL(server.url)));
  }, 30_000);
  afterAll(async () => {
    await bystander?.close();
    await server?.close();
  });

  it('serves a request whose header and envelope agree (the control case)', async () => {
    const r = await post(
      server.url,
      { 'mcp-protocol-version': MODERN, ...LIST_HEADERS },
      list(envelope(MODERN)),
    );
    expect(r.status).toBe(200);
    expect(r.text).toContain(HEALTH_CALL.name);
  });

  it.each(CASES.map((c) => [c.label, c] as const))(
    'refuses %s with 400 and the spec error code',
    async (_label, { headers, body, codes }) => {
      await h.control.clearRequests();
      const r = await post(server.url, headers, body);
      expect(r.status).toBe(400);
      expect(r.type).toContain('application/json');
      const answer = JSON.parse(r.text) as {
        jsonrpc: string;
        id: unknown;
        error: { code: number; message: string };
      };
      expect(answer.jsonrpc).toBe('2.0');
      expect(codes).toContain(answer.error.code);
      if (answer.error.code === INVALID_PARAMS)
        expect(answer.error.message).toMatch(/_meta|clientCapabilities/);
      else expect(answer.error.message).toMatch(/disagree|protocol version/i);
      // Refused before dispatch: the upstream saw nothing.
      expect(await healthRequests(h)).toEqual([]);
      // The same process goes on serving a well-behaved client.
      const ok = await bystander.callTool(HEALTH_CALL);
      bystanderCalls += 1;
      expect(ok.isError).toBeFalsy();
    },
  );

  it('ran a tool only for the bystander', async () => {
    expect(server.server.listening).toBe(true);
    await expect
      .poll(() => readAudit(auditFile).filter((e) => e.kind === 'tool' && e.name === HEALTH_CALL.name).length)
      .toBe(bystanderCalls);
    expect(bystanderCalls).toBe(CASES.length);
    expect(server.stderr()).not.toMatch(/unhandled|TypeError/);
  });
});
