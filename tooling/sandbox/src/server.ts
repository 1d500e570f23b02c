import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { seedDocs } from './data/docs.ts';
import { seedPlatform } from './data/platform.ts';
import { seedSupport } from './data/support.ts';
import { Store } from './db.ts';
import {
  type FaultRule,
  FaultSet,
  faultErrorCode,
  gzipBombPayload,
  HTML_PAGE,
  oversizedPayload,
  validateRules,
} from './faults.ts';
import {
  ApiError,
  type CompiledRoute,
  compileRoutes,
  errorBody,
  matchRoute,
  type Reply,
  stableStringify,
} from './http.ts';
import { docsRoutes } from './routes/docs.ts';
import { platformRoutes } from './routes/platform.ts';
import { supportRoutes } from './routes/support.ts';

export type Domain = 'platform-ops' | 'docs' | 'support';
export type SandboxTokens = { 'platform-ops': string; docs: string; support: string };

export interface SandboxOptions {
  /** TCP port; 0 (default) picks a free one. */
  port?: number;
  /** Only loopback is allowed. */
  host?: '127.0.0.1';
  tokens?: Partial<SandboxTokens>;
  controlToken?: string;
  /** SQLite location; default ':memory:'. A file is rebuilt from the seed on every start. */
  dbPath?: string;
  /** Fault rules installed at start (same shape as PUT /_sandbox/faults). */
  faults?: FaultRule[];
  /** Receives one line per request (never contains tokens). Quiet when omitted. */
  log?: (line: string) => void;
}

export interface Sandbox {
  url: string;
  tokens: SandboxTokens;
  controlToken: string;
  close(): Promise<void>;
}

export interface RequestRecord {
  seq: number;
  at: string;
  method: string;
  path: string;
  query: Record<string, string>;
  requestId: string | null;
  idempotencyKey: string | null;
  authorization: 'present' | 'absent';
  tokenDomain: Domain | 'control' | 'unknown' | null;
  status: number | null;
  aborted: boolean;
  /** Which injected fault (if any) shaped this response. */
  fault: string | null;
  durationMs: number | null;
}

interface Outgoing {
  status: number;
  headers: Record<string, string>;
  payload: string | Buffer;
}

const JSON_TYPE = 'application/json; charset=utf-8';
const MAX_BODY_BYTES = 1_048_576;
const MAX_RECORDS = 10_000;
const PREFIXES: [string, Domain][] = [
  ['/platform/v1', 'platform-ops'],
  ['/docs/v1', 'docs'],
  ['/support/v1', 'support'],
];

const token = (prefix: string): string => `${prefix}_${randomBytes(18).toString('base64url')}`;

function safeEqual(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

function jsonOut(status: number, body: unknown, headers: Record<string, string> = {}): Outgoing {
  return { status, headers: { 'content-type': JSON_TYPE, ...headers }, payload: JSON.stringify(body) };
}

function replyOut(reply: Reply): Outgoing {
  return jsonOut(reply.status, reply.body, reply.headers);
}

function firstHeader(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

function decodeSegments(pathname: string): string[] | undefined {
  try {
    return pathname
      .split('/')
      .slice(1)
      .map((s) => decodeURIComponent(s));
  } catch {
    return undefined;
  }
}

export async function startSandbox(options: SandboxOptions = {}): Promise<Sandbox> {
  const host = options.host ?? '127.0.0.1';
  if (host !== '127.0.0.1') throw new Error(`sandbox only listens on 127.0.0.1 (got ${String(host)})`);
  const tokens: SandboxTokens = {
    'platform-ops': options.tokens?.['platform-ops'] ?? token('sbx_ops'),
    docs: options.tokens?.docs ?? token('sbx_docs'),
    support: options.tokens?.support ?? token('sbx_sup'),
  };
  const controlToken = options.controlToken ?? token('sbx_ctl');
  const distinct = new Set([...Object.values(tokens), controlToken]);
  if (distinct.size !== 4 || [...distinct].some((t) => t.length === 0))
    throw new Error('sandbox tokens must be non-empty and distinct');
  const log = options.log;

  const faults = new FaultSet();
  if (options.faults) {
    const checked = validateRules(options.faults);
    if ('error' in checked) throw new Error(`invalid fault rules: ${checked.error}`);
    faults.replace(checked.rules);
  }

  const store = new Store(options.dbPath ?? ':memory:');
  const now = Math.floor(Date.now() / 60_000) * 60_000;
  store.transaction(() => {
    seedPlatform(store, now);
    seedDocs(store, now);
    seedSupport(store, now);
  });

  const routes: Record<Domain, CompiledRoute[]> = {
    'platform-ops': compileRoutes(platformRoutes(store)),
    docs: compileRoutes(docsRoutes(store)),
    support: compileRoutes(supportRoutes(store)),
  };

  const records: RequestRecord[] = [];
  let seq = 0;
  const sockets = new Set<Socket>();
  const timers = new Set<NodeJS.Timeout>();
  let closing = false;

  const tokenDomainOf = (authorization: string | undefined): RequestRecord['tokenDomain'] => {
    if (authorization === undefined) return null;
    const match = /^Bearer\s+(\S+)\s*$/i.exec(authorization);
    if (!match) return 'unknown';
    const presented = match[1]!;
    for (const [domain, value] of Object.entries(tokens) as [Domain, string][])
      if (safeEqual(presented, value)) return domain;
    if (safeEqual(presented, controlToken)) return 'control';
    return 'unknown';
  };

  /** Resolves true after `ms`, or false as soon as the response closes (client went away / shutdown). */
  const wait = (ms: number, res: ServerResponse): Promise<boolean> =>
    new Promise((resolve) => {
      if (res.closed || closing) return resolve(false);
      const onClose = () => {
        clearTimeout(timer);
        timers.delete(timer);
        resolve(false);
      };
      const timer = setTimeout(() => {
        timers.delete(timer);
        res.off('close', onClose);
        resolve(true);
      }, ms);
      timers.add(timer);
      res.once('close', onClose);
    });

  const readBody = (req: IncomingMessage): Promise<Buffer | 'too_large'> =>
    new Promise((resolve, reject) => {
      const chunks: Buffer[] = [];
      let size = 0;
      let tooLarge = false;
      req.on('data', (chunk: Buffer) => {
        size += chunk.length;
        if (size > MAX_BODY_BYTES) tooLarge = true;
        else chunks.push(chunk);
      });
      req.on('end', () => resolve(tooLarge ? 'too_large' : Buffer.concat(chunks)));
      req.on('error', reject);
    });

  const authorize = (domain: Domain | 'control', authorization: string | undefined): Outgoing | undefined => {
    const presented = tokenDomainOf(authorization);
    if (presented === domain) return undefined;
    if (presented === null)
      return jsonOut(401, errorBody('unauthorized', 'missing bearer token'), {
        'www-authenticate': 'Bearer',
      });
    if (presented === 'unknown')
      return jsonOut(401, errorBody('unauthorized', 'invalid bearer token'), {
        'www-authenticate': 'Bearer error="invalid_token"',
      });
    return jsonOut(403, errorBody('forbidden', 'token is not valid for this API'));
  };

  const handleApi = async (
    req: IncomingMessage,
    method: string,
    pathname: string,
    query: URLSearchParams,
  ): Promise<Outgoing> => {
    if (pathname === '/healthz')
      return method === 'GET'
        ? jsonOut(200, { ok: true })
        : jsonOut(405, errorBody('method_not_allowed', 'use GET'), { allow: 'GET' });
    const prefix = PREFIXES.find(([p]) => pathname === p || pathname.startsWith(`${p}/`));
    if (!prefix) return jsonOut(404, errorBody('not_found', `no route for ${method} ${pathname}`));
    const domain = prefix[1];
    const denied = authorize(domain, firstHeader(req.headers.authorization));
    if (denied) return denied;
    const segments = decodeSegments(pathname);
    if (!segments) return jsonOut(400, errorBody('invalid_argument', 'path is not valid percent-encoding'));
    const found = matchRoute(routes[domain], method, segments);
    if (!found) return jsonOut(404, errorBody('not_found', `no route for ${method} ${pathname}`));
    if ('allowed' in found)
      return jsonOut(405, errorBody('method_not_allowed', `use ${found.allowed.join(', ')}`), {
        allow: found.allowed.join(', '),
      });
    const { route, params } = found;

    let body: unknown;
    let idempotencyKey: string | undefined;
    if (route.method === 'POST') {
      if (route.idempotent) {
        idempotencyKey = firstHeader(req.headers['idempotency-key']);
        if (idempotencyKey === undefined || idempotencyKey.length < 1 || idempotencyKey.length > 200) {
          return jsonOut(
            400,
            errorBody('invalid_argument', 'Idempotency-Key header (1..200 characters) is required'),
          );
        }
      }
      const raw = await readBody(req);
      if (raw === 'too_large')
        return jsonOut(413, errorBody('payload_too_large', `request body exceeds ${MAX_BODY_BYTES} bytes`));
      try {
        body = raw.length === 0 ? undefined : JSON.parse(raw.toString('utf8'));
      } catch {
        return jsonOut(400, errorBody('invalid_argument', 'request body is not valid JSON'));
      }
    }

    const run = (): Outgoing => {
      try {
        return replyOut(route.handler({ params, query, body }));
      } catch (error) {
        if (error instanceof ApiError) return jsonOut(error.status, errorBody(error.code, error.message));
        log?.(
          `internal error on ${method} ${pathname}: ${error instanceof Error ? error.message : String(error)}`,
        );
        return jsonOut(500, errorBody('internal', 'internal error'));
      }
    };

    if (idempotencyKey === undefined) return run();
    const scope = `${domain} ${method} ${segments.join('/')}`;
    const fingerprint = createHash('sha256')
      .update(stableStringify(body ?? null))
      .digest('hex');
    const stored = store.get<{ fingerprint: string; status: number; body: string }>(
      'SELECT fingerprint, status, body FROM idempotency WHERE scope = ? AND key = ?',
      scope,
      idempotencyKey,
    );
    if (stored) {
      if (stored.fingerprint !== fingerprint) {
        return jsonOut(
          409,
          errorBody('conflict', 'Idempotency-Key was already used with a different request body'),
        );
      }
      return {
        status: stored.status,
        headers: { 'content-type': JSON_TYPE, 'idempotent-replayed': 'true' },
        payload: stored.body,
      };
    }
    // Handlers are synchronous, so check-then-store cannot interleave with another request.
    const out = run();
    if (out.status >= 200 && out.status < 300) {
      store.run(
        'INSERT INTO idempotency (scope, key, fingerprint, status, body, created_at) VALUES (?, ?, ?, ?, ?, ?)',
        scope,
        idempotencyKey,
        fingerprint,
        out.status,
        String(out.payload),
        new Date().toISOString(),
      );
    }
    return out;
  };

  const handleControl = async (
    req: IncomingMessage,
    method: string,
    pathname: string,
    query: URLSearchParams,
  ): Promise<Outgoing> => {
    const denied = authorize('control', firstHeader(req.headers.authorization));
    if (denied) return denied;
    if (pathname === '/_sandbox/faults') {
      if (method === 'GET') return jsonOut(200, { rules: faults.list() });
      if (method === 'DELETE') {
        faults.clear();
        return jsonOut(200, { rules: [] });
      }
      if (method === 'PUT') {
        const raw = await readBody(req);
        if (raw === 'too_large')
          return jsonOut(413, errorBody('payload_too_large', 'request body too large'));
        let parsed: unknown;
        try {
          parsed = JSON.parse(raw.toString('utf8'));
        } catch {
          return jsonOut(400, errorBody('invalid_argument', 'request body is not valid JSON'));
        }
        const checked = validateRules((parsed as { rules?: unknown } | null)?.rules);
        if ('error' in checked) return jsonOut(400, errorBody('invalid_argument', checked.error));
        faults.replace(checked.rules);
        return jsonOut(200, { rules: faults.list() });
      }
      return jsonOut(405, errorBody('method_not_allowed', 'use GET, PUT or DELETE'), {
        allow: 'GET, PUT, DELETE',
      });
    }
    if (pathname === '/_sandbox/requests') {
      if (method === 'GET') {
        const since = Number(query.get('since') ?? '0');
        const items = Number.isFinite(since) && since > 0 ? records.filter((r) => r.seq > since) : records;
        return jsonOut(200, { items });
      }
      if (method === 'DELETE') {
        const cleared = records.length;
        records.length = 0;
        return jsonOut(200, { cleared });
      }
      return jsonOut(405, errorBody('method_not_allowed', 'use GET or DELETE'), { allow: 'GET, DELETE' });
    }
    return jsonOut(404, errorBody('not_found', `no control route ${method} ${pathname}`));
  };

  const send = async (res: ServerResponse, out: Outgoing, drip: FaultRule['drip']): Promise<void> => {
    if (res.closed || res.destroyed) return;
    const payload = typeof out.payload === 'string' ? Buffer.from(out.payload, 'utf8') : out.payload;
    res.writeHead(out.status, { ...out.headers, 'content-length': String(payload.length) });
    if (!drip) {
      res.end(payload);
      return;
    }
    res.flushHeaders();
    for (let offset = 0; offset < payload.length; offset += drip.chunkBytes) {
      if (offset > 0 && !(await wait(drip.intervalMs, res))) return;
      res.write(payload.subarray(offset, offset + drip.chunkBytes));
    }
    res.end();
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const started = performance.now();
    const method = (req.method ?? 'GET').toUpperCase();
    const rawUrl = req.url ?? '/';
    const q = rawUrl.indexOf('?');
    const pathname = q >= 0 ? rawUrl.slice(0, q) : rawUrl;
    const query = new URLSearchParams(q >= 0 ? rawUrl.slice(q + 1) : '');
    const requestId = firstHeader(req.headers['x-request-id']);
    if (requestId !== undefined) res.setHeader('X-Request-Id', requestId);
    const isControl = pathname === '/_sandbox' || pathname.startsWith('/_sandbox/');

    let record: RequestRecord | undefined;
    if (!isControl) {
      const authorization = firstHeader(req.headers.authorization);
      record = {
        seq: ++seq,
        at: new Date().toISOString(),
        method,
        path: pathname,
        query: Object.fromEntries(query),
        requestId: requestId ?? null,
        idempotencyKey: firstHeader(req.headers['idempotency-key']) ?? null,
        authorization: authorization === undefined ? 'absent' : 'present',
        tokenDomain: tokenDomainOf(authorization),
        status: null,
        aborted: false,
        fault: null,
        durationMs: null,
      };
      records.push(record);
      if (records.length > MAX_RECORDS) records.splice(0, records.length - MAX_RECORDS);
    }
    let deliberateReset = false;
    res.on('close', () => {
      if (!record) return;
      record.durationMs = Math.round((performance.now() - started) * 10) / 10;
      if (res.headersSent) record.status = res.statusCode;
      if (!res.writableFinished && !deliberateReset) record.aborted = true;
      log?.(
        `${record.method} ${record.path} ${record.status ?? '-'}${record.aborted ? ' aborted' : ''}${record.fault ? ` fault=${record.fault}` : ''} ${record.durationMs}ms`,
      );
    });

    try {
      if (isControl) {
        await send(res, await handleControl(req, method, pathname, query), undefined);
        return;
      }
      const rule = faults.match(method, pathname);
      const effects: string[] = [];
      if (rule?.latencyMs) {
        effects.push('latency');
        if (record) record.fault = effects.join('+');
        if (!(await wait(rule.latencyMs, res))) return;
      }
      if (rule?.hang) {
        effects.push('hang');
        if (record) record.fault = effects.join('+');
        req.resume();
        return; // never answered; the close handler and close() clean up
      }
      if (rule?.reset) {
        effects.push('reset');
        if (record) record.fault = effects.join('+');
        deliberateReset = true;
        req.socket.destroy();
        return;
      }
      let out: Outgoing;
      const retry = rule?.retryAfter ? { 'retry-after': rule.retryAfter } : undefined;
      if (rule?.body === 'html') {
        effects.push('html');
        out = {
          status: rule.status ?? 200,
          headers: { 'content-type': 'text/html; charset=utf-8' },
          payload: HTML_PAGE,
        };
      } else if (rule?.body === 'gzip-bomb') {
        effects.push('gzip-bomb');
        out = {
          status: rule.status ?? 200,
          headers: { 'content-type': JSON_TYPE, 'content-encoding': 'gzip' },
          payload: gzipBombPayload(),
        };
      } else if (rule?.body === 'oversized') {
        effects.push('oversized');
        out = { status: 200, headers: { 'content-type': JSON_TYPE }, payload: oversizedPayload() };
      } else if (rule?.body === 'schema') {
        effects.push('schema');
        out = jsonOut(rule.status ?? 200, { unexpected: true, data: [{ value: 42 }] });
      } else if (rule?.status !== undefined && rule.body === undefined) {
        effects.push(`status:${rule.status}`);
        out = jsonOut(
          rule.status,
          errorBody(faultErrorCode(rule.status), `injected fault: upstream answered ${rule.status}`),
        );
      } else {
        out = await handleApi(req, method, pathname, query);
        if (rule?.body === 'malformed') {
          effects.push('malformed');
          const text = String(out.payload);
          out = {
            status: rule.status ?? 200,
            headers: { 'content-type': JSON_TYPE },
            payload: text.slice(0, Math.max(1, Math.floor(text.length / 2))),
          };
        } else if (rule?.body === 'wrong-type') {
          effects.push('wrong-type');
          out = { ...out, headers: { ...out.headers, 'content-type': 'text/plain; charset=utf-8' } };
        }
      }
      if (retry) out.headers = { ...out.headers, ...retry };
      if (rule?.drip) effects.push('drip');
      if (record && effects.length > 0) record.fault = effects.join('+');
      await send(res, out, rule?.drip);
    } catch (error) {
      log?.(`unhandled error: ${error instanceof Error ? error.message : String(error)}`);
      if (!res.headersSent && !res.destroyed) {
        const out = jsonOut(500, errorBody('internal', 'internal error'));
        res.writeHead(out.status, out.headers).end(out.payload);
      } else res.destroy();
    }
  };

  const server = createServer({ keepAliveTimeout: 5_000 }, (req, res) => {
    void handle(req, res);
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  server.on('clientError', (_error, socket) => {
    if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\nconnection: close\r\n\r\n');
    else socket.destroy();
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : options.port;

  let closed: Promise<void> | undefined;
  return {
    url: `http://${host}:${port}`,
    tokens,
    controlToken,
    close: () => {
      closed ??= new Promise<void>((resolve) => {
        closing = true;
        for (const timer of timers) clearTimeout(timer);
        timers.clear();
        server.close(() => {
          store.close();
          resolve();
        });
        for (const socket of sockets) socket.destroy();
        sockets.clear();
      });
      return closed;
    },
  };
}
