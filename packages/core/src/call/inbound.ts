/**
 * What a transport does with a request before the SDK sees it. The SDK answers
 * some tools/call requests alone, before any Gatehouse code runs: a tool this
 * principal cannot see, a request without a tool name, `arguments` that are
 * not an object. Its answers are untyped and leave no record. Each transport
 * (stdio, the test kit's in-memory pair, the HTTP door) hands every request
 * here: the first two are audited as they pass; arguments that are not an
 * object are carried inside one, so the call reaches the seam, which refuses
 * it with a typed INVALID_ARGUMENT and its one record.
 */

import type { Principal } from './policy.ts';
import { toolVisibility } from './policy.ts';
import { auditProtocolEvent } from './read.ts';
import type { Runtime } from './runtime.ts';

/** The one member of the object that carries arguments which are not an object. */
const ARGUMENTS_CARRIER = 'dev.gatehouse/arguments';

const isObject = (value: unknown): value is Record<string, unknown> =>
  value !== null && typeof value === 'object' && !Array.isArray(value);

/** The arguments as the client sent them: a carried value that is not an object is taken out again. */
export function receivedArguments(raw: unknown): unknown {
  if (!isObject(raw)) return raw;
  const keys = Object.keys(raw);
  // Only a value that is not an object is ever carried: a client that wraps an object itself gains nothing.
  if (keys.length === 1 && keys[0] === ARGUMENTS_CARRIER && !isObject(raw[ARGUMENTS_CARRIER]))
    return raw[ARGUMENTS_CARRIER];
  return raw;
}

export interface InboundOptions {
  /**
   * HTTP: a tool hidden from the principal only for want of a scope is answered
   * with an audited 403 challenge (`challenge`) or the seam's DENIED (`deny`),
   * not as unknown.
   */
  scopeRefusal?: 'challenge' | 'deny';
}

/**
 * Looks at one inbound JSON-RPC message (an object as parsed; anything else is
 * ignored). A tools/call request to a tool the principal cannot use, or with
 * no tool name, is audited here; one whose `arguments` are not an object gets
 * them carried (the message's `params` is replaced, never edited in place).
 * Returns whether the message was changed.
 */
export function inspectInbound(
  runtime: Runtime,
  principal: Principal,
  message: unknown,
  options: InboundOptions = {},
): boolean {
  if (!isObject(message) || message.method !== 'tools/call') return false;
  // A notification is never answered, so it leaves no record.
  if (typeof message.id !== 'string' && typeof message.id !== 'number') return false;
  const params = message.params;
  if (!isObject(params) || typeof params.name !== 'string') {
    auditProtocolEvent(runtime, principal, 'tools/call', {}, 'INVALID_REQUEST');
    return false;
  }
  const args = params.arguments;
  const carry = args !== undefined && !isObject(args);
  if (carry) message.params = { ...params, arguments: { [ARGUMENTS_CARRIER]: args } };
  if (!usable(runtime, principal, params.name, options))
    auditProtocolEvent(runtime, principal, params.name.slice(0, 128), args, 'UNKNOWN_TOOL');
  return carry;
}

/** Whether a call to `name` reaches the seam (or a scope challenge) rather than the SDK's unknown-tool answer. */
function usable(runtime: Runtime, principal: Principal, name: string, options: InboundOptions): boolean {
  const prepared = runtime.tools.get(name);
  if (!prepared) return false;
  const visibility = toolVisibility(prepared.tool, principal, runtime.policy);
  // A tool outside the connection's toolsets is registered unlisted: the seam refuses and audits it.
  return (
    visibility.visible ||
    visibility.reason === 'toolset' ||
    (options.scopeRefusal !== undefined && visibility.reason === 'scope')
  );
}
