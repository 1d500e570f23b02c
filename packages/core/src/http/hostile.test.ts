/**
 * Framing attacks on Streamable HTTP (the fixture's HTTP front in this process,
 * `--no-auth` on 127.0.0.1, port 0): malformed JSON, batch arrays, missing `jsonrpc`, a
 * 50 MB body (declared and streamed), wrong Content-Type and Accept. Each is
 * answered with its status and a JSON-RPC error, no tool runs, and a real MCP
 * client connected to the same server keeps being served throughout.
 */
import { request } from 'node:http';
import { beforeAll, describe, expect, it } from 'vitest';
import { fixture, STATUS_CALL } from '../testing/fixture/harness.ts';
import { MCP_HEADERS, startHttp } from '../testing/fixture/http.ts';
import { useOpenFront } from '../testing/fixture/per-file.ts';
import { readAudit } from '../testing/index.ts';

const V = { 'mcp-protocol-version': '2025-11-25' };
const PING = JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'ping' });
const HEALTH = STATUS_CALL;
const MB = 1024 * 1024;

// Attacker and bystander are the one local principal under --no-auth; its concurrency cap
// (16 by default; tested in load.test.ts) must not decide the 20 interleaved requests below.
const {
  h,
  server,
  client: bystander,
  auditFile,
} = useOpenFront(
  { FIXTURE_LOG_LEVEL: 'warn', FIXTURE_MAX_CONCURRENT: '64' },
  { name: 'bystander', version: '1.0.0' },
);
beforeAll(() => {
  expect(new URL(server.url).hostname).toBe('127.0.0.1');
});

interface Answer {
  status: number;
  body: string;
  headers: Record<string, string | string[] | undefined>;
  /** Body bytes written before the answer came (for uploads). */
  uploaded: number;
}

/**
 * One request on its own connection (no keep-alive pool shared with the
 * bystander client). `upload` sends a body of that many bytes in 256 KiB
 * chunks, paced, and stops as soon as the server answers; `declare` sends a
 * Content-Length for it instead of chunked encoding.
 */
function send(
  headers: Record<string, string>,
  body: string | { upload: number; declare: boolean },
  to = server.url,
): Promise<Answer> {
  const url = new URL(to);
  return new Promise((resolve, reject) => {
    let answered = false;
    let uploaded = 0;
    const upload = typeof body === 'string' ? undefined : body;
    const req = request(
      {
        host: url.hostname,
        port: url.port,
        path: url.pathname,
        method: 'POST',
        headers: upload?.declare ? { ...headers, 'content-length': String(upload.upload) } : headers,
        agent: false,
      },
      (res) => {
        answered = true;
        let text = '';
        res.on('data', (c: Buffer) => {
          if (text.length < 64 * 1024) text += c.toString();
        });
        // 'close' too: a server that answers early may reset the rest of an upload after its answer.
        const done = () => {
          resolve({ status: res.statusCode ?? 0, body: text, headers: res.headers, uploaded });
          if (upload) req.destroy();
        };
        res.on('end', done);
        res.on('close', done);
        res.on('error', done);
      },
    );
    req.on('error', (error) => {
      if (!answered) reject(error);
    });
    req.setTimeout(20_000, () => req.destroy(new Error('timeout')));
    if (!upload) return void req.end(body as string);
    const chunk = Buffer.alloc(256 * 1024, 97);
    const pump = () => {
      if (answered || req.destroyed) return;
      if (uploaded >= upload.upload) return void req.end();
      uploaded += chunk.length;
      const next = () => setTimeout(pump, 5);
      if (req.write(chunk)) next();
      else req.once('drain', next);
    };
    pump();
  });
}

const rpcError = (body: string) => (JSON.parse(body) as { error: { code: number }; id: unknown }).error;

describe('HTTP framing attacks', () => {
  it.each([
    ['malformed JSON', 400, -32700, 'this is not json'],
    ['truncated JSON', 400, -32700, '{"jsonrpc":"2.0","id":1,"method":"ping"'],
    ['an empty body', 400, -32700, ''],
    ['an empty batch', 400, -32600, '[]'],
    ['a missing jsonrpc', 400, -32600, '{"id":1,"method":"ping"}'],
    ['jsonrpc 1.0', 400, -32600, '{"jsonrpc":"1.0","id":1,"method":"ping"}'],
    ['null', 400, -32600, 'null'],
    ['an object id', 400, -32600, '{"jsonrpc":"2.0","id":{},"method":"ping"}'],
    ['an id beyond 2^53', 400, -32600, '{"jsonrpc":"2.0","id":1e308,"method":"ping"}'],
  ] as const)('answers %s with %i and JSON-RPC %i', async (_label, status, code, body) => {
    const r = await send({ ...MCP_HEADERS, ...V }, body);
    expect(r.status).toBe(status);
    expect(r.headers['content-type']).toContain('application/json');
    expect(rpcError(r.body).code).toBe(code);
  });

  it.each(['1999-01-01', 'banana', '2025-11-25, 2025-06-18'])(
    'refuses an unsupported MCP-Protocol-Version %j with 400 and a JSON-RPC error',
    async (version) => {
      const r = await send({ ...MCP_HEADERS, 'mcp-protocol-version': version }, PING);
      expect(r.status).toBe(400);
      expect(r.body).toMatch(/protocol (version|revision)/i);
      expect(rpcError(r.body).code).toBeLessThan(0);
    },
  );

  it('answers an unknown method with -32601 under its own id', async () => {
    const r = await send(
      { ...MCP_HEADERS, ...V },
      JSON.stringify({ jsonrpc: '2.0', id: 'x-1', method: 'no/such' }),
    );
    expect(r.body).toContain('"id":"x-1"');
    expect(r.body).toContain('-32601');
  });

  it.each([
    ['text/plain', 415],
    ['application/x-www-form-urlencoded', 415],
    ['multipart/form-data; boundary=x', 415],
  ])('refuses Content-Type %s with %i', async (contentType, status) => {
    const r = await send({ ...MCP_HEADERS, ...V, 'content-type': contentType }, PING);
    expect(r.status).toBe(status);
    expect(rpcError(r.body).code).toBe(-32000);
  });

  it.each([
    ['text/html', 406],
    ['application/json', 406],
    ['text/event-stream', 406],
  ])('refuses Accept %s with %i', async (accept, status) => {
    const r = await send({ ...MCP_HEADERS, ...V, accept }, PING);
    expect(r.status).toBe(status);
    expect(rpcError(r.body).code).toBe(-32000);
  });

  it('refuses a 50 MB body with 413, declared or streamed, without reading it', {
    timeout: 30_000,
  }, async () => {
    const own = await startHttp(fixture, { env: h.env({ FIXTURE_LOG_LEVEL: 'warn' }), noAuth: true });
    try {
      const declared = await send({ ...MCP_HEADERS, ...V }, { upload: 50 * MB, declare: true }, own.url);
      expect(declared.status).toBe(413);
      expect(rpcError(declared.body).code).toBe(-32000);
      // Refused on the declared length: nothing like 50 MB was read.
      expect(declared.uploaded).toBeLessThan(8 * MB);
      const streamed = await send(
        { ...MCP_HEADERS, ...V, 'transfer-encoding': 'chunked' },
        { upload: 50 * MB, declare: false },
        own.url,
      );
      expect(streamed.status).toBe(413);
      expect(rpcError(streamed.body).code).toBe(-32000);
      // Refused once the cap (1 MiB by default) was crossed, not after the whole body.
      expect(streamed.uploaded).toBeLessThan(8 * MB);
    } finally {
      await own.close();
    }
  });

  // Once a crash: the per-request 'close' handler read the socket's address after the client had
  // hung up (any uploader that stops after its 413 did it).
  it('survives a client that hangs up right after a 413', { timeout: 30_000 }, async () => {
    const own = await startHttp(fixture, { env: h.env({ FIXTURE_LOG_LEVEL: 'warn' }), noAuth: true });
    try {
      for (const declare of [true, false]) {
        const refused = await send(
          { ...MCP_HEADERS, ...V, ...(declare ? {} : { 'transfer-encoding': 'chunked' }) },
          { upload: 50 * MB, declare },
          own.url,
        );
        expect(refused.status).toBe(413);
      }
      await new Promise((r) => setTimeout(r, 300));
      expect(own.stderr()).not.toContain('TypeError');
      // Still serving: a throw in a socket handler would have surfaced as an uncaught error in this process.
      expect(own.server.listening).toBe(true);
      expect((await send({ ...MCP_HEADERS, ...V }, PING, own.url)).status).toBe(200);
    } finally {
      await own.close();
    }
  });

  // Batching left MCP in 2025-06-18 (matrix #13); the SDK's stateless handler would still unpack one,
  // so core refuses it before handing the body over.
  it('refuses a batch array under 2025-11-25 with 400', async () => {
    const r = await send({ ...MCP_HEADERS, ...V }, `[${PING}]`);
    expect(r.status).toBe(400);
  });

  it('kept serving the bystander client, and no tool ran for any refused request', {
    timeout: 30_000,
  }, async () => {
    // Interleave hostile requests with the bystander's real calls.
    const results = await Promise.all([
      ...Array.from({ length: 10 }, () => bystander.callTool(HEALTH)),
      ...Array.from({ length: 10 }, (_, i) => send({ ...MCP_HEADERS, ...V }, i % 2 ? 'garbage' : '{"id":1}')),
    ]);
    for (const r of results.slice(0, 10)) expect((r as { isError?: boolean }).isError).toBeFalsy();
    for (const r of results.slice(10)) expect((r as { status: number }).status).toBe(400);
    expect(server.server.listening).toBe(true);
    // Tool events: exactly the bystander's ten calls plus the one unknown-method probe's none.
    await expect
      .poll(() => readAudit(auditFile()).filter((e) => e.kind === 'tool' && e.name === HEALTH.name).length)
      .toBe(10);
    expect(server.stderr()).not.toContain('unhandled rejection');
  });
});
