/** The control API under /_sandbox (control token only): fault rules and the request log. */
import type { IncomingMessage } from 'node:http';
import type { TokenBook } from './auth.ts';
import { type FaultSet, validateRules } from './faults.ts';
import { errorBody } from './http.ts';
import { firstHeader, jsonOut, type Outgoing, readBody } from './respond.ts';
import type { RequestRecord } from './types.ts';

export interface ControlContext {
  tokens: TokenBook;
  faults: FaultSet;
  records: RequestRecord[];
}

export async function handleControl(
  ctx: ControlContext,
  req: IncomingMessage,
  method: string,
  pathname: string,
  query: URLSearchParams,
): Promise<Outgoing> {
  const denied = ctx.tokens.authorize('control', firstHeader(req.headers.authorization));
  if (denied) return denied;
  const { faults, records } = ctx;
  if (pathname === '/_sandbox/faults') {
    if (method === 'GET') return jsonOut(200, { rules: faults.list() });
    if (method === 'DELETE') {
      faults.clear();
      return jsonOut(200, { rules: [] });
    }
    if (method === 'PUT') {
      const raw = await readBody(req);
      if (raw === 'too_large') return jsonOut(413, errorBody('payload_too_large', 'request body too large'));
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
}
