import { randomUUID } from 'node:crypto';
import type { ServerContext } from '@modelcontextprotocol/server';
import type { ReadContext, ToolContext } from '../define/define.ts';
import type { Logger } from '../telemetry/logger.ts';
import type { Principal } from './policy.ts';
import type { Runtime } from './runtime.ts';

/** What the seam (tool-call.ts) reads of the SDK's request context. */
type SeamRequest = Pick<ServerContext['mcpReq'], 'signal' | '_meta' | 'notify'>;

/**
 * A call through the SDK carries the SDK's whole context (an approval asks the client through it);
 * a call answered straight at the seam (./direct.ts: stateless HTTP, stdio) carries only its request.
 */
export type SeamContext = ServerContext | { readonly direct: true; readonly mcpReq: SeamRequest };

/**
 * A tool handler's context. `log` is a getter on the prototype: a child
 * logger compiles pino's redaction rules, so it is built only when a handler
 * logs, and `{ ...ctx }` (handlers spread ctx into upstream options) neither
 * builds nor copies it.
 */
export class CallContext implements ToolContext<unknown> {
  readonly deps: unknown;
  readonly principal: Principal;
  readonly callId: string;
  readonly signal: AbortSignal;
  readonly requestId: string;
  readonly idempotencyKey: string | undefined;
  readonly onUpstream: ToolContext<unknown>['onUpstream'];
  readonly progress: ToolContext<unknown>['progress'];
  private readonly parentLog: Logger;
  private readonly bindings: Record<string, string>;
  private child: Logger | undefined;

  constructor(
    parentLog: Logger,
    bindings: Record<string, string>,
    fields: Omit<ToolContext<unknown>, 'log'> & { idempotencyKey: string | undefined },
  ) {
    this.parentLog = parentLog;
    this.bindings = bindings;
    this.deps = fields.deps;
    this.principal = fields.principal;
    this.callId = fields.callId;
    this.signal = fields.signal;
    this.requestId = fields.requestId;
    this.idempotencyKey = fields.idempotencyKey;
    this.onUpstream = fields.onUpstream;
    this.progress = fields.progress;
  }

  get log(): Logger {
    this.child ??= this.parentLog.child(this.bindings);
    return this.child;
  }
}

/** What a resource read, prompt get or completion hands its function. */
export function readContext(
  runtime: Runtime,
  principal: Principal,
  signal: AbortSignal,
  onUpstream?: ReadContext<unknown>['onUpstream'],
  requestId: string = randomUUID(),
): ReadContext<unknown> {
  return { deps: runtime.deps, principal, log: runtime.log, signal, requestId, onUpstream };
}
