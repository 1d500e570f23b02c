/**
 * Resource reads, prompt gets, completions and the protocol rejections the SDK
 * answers itself: each leaves one record, built by the one audit builder.
 */
import { randomUUID } from 'node:crypto';
import { ProtocolError, ProtocolErrorCode, type ServerContext } from '@modelcontextprotocol/server';
import { CallRecord } from '../audit/record.ts';
import type { ReadContext } from '../define/define.ts';
import { startMcpSpan } from '../telemetry/tracing.ts';
import { readContext } from './context.ts';
import type { Principal } from './policy.ts';
import type { Runtime } from './runtime.ts';
import { recordOutcome, toGatehouseError } from './tool-call.ts';

/** Resource reads and prompt gets share this: audit, typed errors as JSON-RPC errors. */
export async function audited<T>(
  runtime: Runtime,
  principal: Principal,
  kind: 'resource' | 'prompt',
  name: string,
  args: unknown,
  request: ServerContext['mcpReq'],
  run: (ctx: ReadContext<unknown>) => Promise<T>,
): Promise<T> {
  const { signal } = request;
  const record = new CallRecord({ principal, kind, name, args, requestId: randomUUID() });
  const ctx = readContext(runtime, principal, signal, record.onUpstream, record.requestId);
  const span = startMcpSpan(
    kind === 'resource' ? 'resources/read' : 'prompts/get',
    name,
    request,
    ctx.requestId,
  );
  try {
    return await span.run(() => run(ctx));
  } catch (caught) {
    const error = toGatehouseError(caught, signal, runtime.log);
    record.errorCode = error.code;
    record.outcome = error.code === 'CANCELLED' ? 'cancelled' : 'error';
    if (error.code === 'INVALID_ARGUMENT') record.decision = 'invalid';
    const code =
      error.code === 'NOT_FOUND' || error.code === 'INVALID_ARGUMENT'
        ? ProtocolErrorCode.InvalidParams
        : ProtocolErrorCode.InternalError;
    throw new ProtocolError(code, `[${error.code}] ${error.message}`, error.toJSON());
  } finally {
    span.end({ outcome: record.outcome, errorCode: record.errorCode, upstreamCalls: record.upstreamCalls });
    recordOutcome(runtime, record);
  }
}

/** Records protocol-level events the SDK answers itself (unknown tools, parse errors). */
export function auditProtocolEvent(
  runtime: Runtime,
  principal: Principal,
  name: string,
  args: unknown,
  errorCode: string,
): void {
  recordOutcome(
    runtime,
    new CallRecord({
      principal,
      kind: 'protocol',
      name,
      args,
      requestId: randomUUID(),
      decision: errorCode === 'UNKNOWN_TOOL' ? 'unknown' : 'invalid',
      outcome: 'error',
      errorCode,
    }),
  );
}

/** A completion function made safe: bounded prefix, bounded answer, a deadline, failures logged as no suggestions. */
export function completer(
  runtime: Runtime,
  principal: Principal,
  fn: ((prefix: string, ctx: ReadContext<unknown>) => Promise<string[]>) | undefined,
) {
  if (!fn) return undefined;
  return async (value: unknown) => {
    try {
      const values = await fn(
        String(value ?? '').slice(0, 256),
        readContext(runtime, principal, AbortSignal.timeout(runtime.config.deadlineMs)),
      );
      return values.slice(0, 100);
    } catch (error) {
      runtime.log.warn({ err: error }, 'completion failed');
      return [];
    }
  };
}
