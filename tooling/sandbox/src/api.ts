/** The domain APIs: prefix → domain, its token, its routes, and Idempotency-Key replay for side-effecting POSTs. */
import { createHash } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { TokenBook } from './auth.ts';
import type { Store } from './db.ts';
import { type SandboxDomain, within } from './domain.ts';
import {
  type CompiledRoute,
  compileRoutes,
  errorBody,
  isApiError,
  matchRoute,
  stableStringify,
} from './http.ts';
import { IdentityVerifier } from './identity.ts';
import {
  firstHeader,
  JSON_TYPE,
  jsonOut,
  MAX_BODY_BYTES,
  type Outgoing,
  readBody,
  replyOut,
} from './respond.ts';
import type { Caller, RequestRecord } from './types.ts';

interface Mounted {
  domain: SandboxDomain;
  routes: CompiledRoute[];
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

/** Compiles each domain's routes over the store; every pattern must sit under the domain's prefix. */
export function mountDomains(domains: readonly SandboxDomain[], store: Store): Mounted[] {
  return domains.map((domain) => {
    const routes = domain.routes(store);
    for (const route of routes)
      if (!within(route.pattern, domain.prefix))
        throw new Error(
          `sandbox domain '${domain.name}': route ${route.pattern} is outside ${domain.prefix}`,
        );
    return { domain, routes: compileRoutes(routes) };
  });
}

export interface ApiContext {
  mounted: readonly Mounted[];
  tokens: TokenBook;
  store: Store;
  log: ((line: string) => void) | undefined;
  /** Set when the sandbox trusts an authorization server's user tokens. */
  identity?: IdentityVerifier | undefined;
}

/** Answers /healthz and every domain route (after faults were applied by the caller). */
export async function handleApi(
  ctx: ApiContext,
  req: IncomingMessage,
  method: string,
  pathname: string,
  query: URLSearchParams,
  record?: RequestRecord,
): Promise<Outgoing> {
  if (pathname === '/healthz')
    return method === 'GET'
      ? jsonOut(200, { ok: true })
      : jsonOut(405, errorBody('method_not_allowed', 'use GET'), { allow: 'GET' });
  const mounted = ctx.mounted.find((m) => within(pathname, m.domain.prefix));
  if (!mounted) return jsonOut(404, errorBody('not_found', `no route for ${method} ${pathname}`));
  const domain = mounted.domain.name;
  const authorization = firstHeader(req.headers.authorization);
  const userToken = ctx.identity ? IdentityVerifier.bearerJwt(authorization) : undefined;
  let caller: Caller | undefined;
  if (ctx.identity && userToken) {
    const verified = await ctx.identity.verify(userToken, domain);
    if ('status' in verified) return verified;
    caller = verified;
    if (record) {
      record.caller = caller;
      record.tokenDomain = domain;
    }
  } else {
    const denied = ctx.tokens.authorize(domain, authorization);
    if (denied) return denied;
  }
  const segments = decodeSegments(pathname);
  if (!segments) return jsonOut(400, errorBody('invalid_argument', 'path is not valid percent-encoding'));
  const found = matchRoute(mounted.routes, method, segments);
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
      return replyOut(route.handler({ params, query, body, caller }));
    } catch (error) {
      if (isApiError(error)) return jsonOut(error.status, errorBody(error.code, error.message));
      ctx.log?.(
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
  const stored = ctx.store.get<{ fingerprint: string; status: number; body: string }>(
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
    ctx.store.run(
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
}
