/** One request end to end: the request log, the first matching fault rule, then the API or control route. */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { type ApiContext, handleApi } from './api.ts';
import { type ControlContext, handleControl } from './control-api.ts';
import { faultErrorCode, gzipBombPayload, HTML_PAGE, oversizedPayload } from './faults.ts';
import { errorBody } from './http.ts';
import { firstHeader, JSON_TYPE, jsonOut, type Outgoing, type Pacer, send } from './respond.ts';
import type { RequestRecord } from './types.ts';

const MAX_RECORDS = 10_000;

export interface HandlerContext extends ApiContext, ControlContext {
  pacer: Pacer;
}

export function requestHandler(
  ctx: HandlerContext,
): (req: IncomingMessage, res: ServerResponse) => Promise<void> {
  const { records, faults, pacer, log } = ctx;
  let seq = 0;

  return async (req, res) => {
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
        tokenDomain: ctx.tokens.domainOf(authorization),
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
        await send(res, await handleControl(ctx, req, method, pathname, query), undefined, pacer);
        return;
      }
      const rule = faults.match(method, pathname);
      const effects: string[] = [];
      if (rule?.latencyMs) {
        effects.push('latency');
        if (record) record.fault = effects.join('+');
        if (!(await pacer.wait(rule.latencyMs, res))) return;
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
        out = await handleApi(ctx, req, method, pathname, query, record);
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
      await send(res, out, rule?.drip, pacer);
    } catch (error) {
      log?.(`unhandled error: ${error instanceof Error ? error.message : String(error)}`);
      if (!res.headersSent && !res.destroyed) {
        const out = jsonOut(500, errorBody('internal', 'internal error'));
        res.writeHead(out.status, out.headers).end(out.payload);
      } else res.destroy();
    }
  };
}
