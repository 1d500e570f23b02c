import type { InboundObserver } from '../stdio/transport.ts';
import { inspectInbound } from './inbound.ts';
import type { Principal } from './policy.ts';
import { auditProtocolEvent } from './read.ts';
import type { Runtime } from './runtime.ts';

/**
 * What a one-connection transport (stdio, or the test kit's in-memory pair)
 * shows the server before the SDK sees a message: tool calls the SDK would
 * answer alone are audited, or (arguments that are not an object) carried on
 * to the seam (inbound.ts); lines that are not JSON-RPC are answered by the
 * transport, so they are audited here.
 */
export function sessionObserver(runtime: Runtime, principal: Principal): InboundObserver {
  return {
    onMessage(message) {
      runtime.idle.touch();
      inspectInbound(runtime, principal, message);
    },
    onGarbage(error) {
      runtime.log.warn({ err: error.message }, 'unparsable stdin line');
      auditProtocolEvent(runtime, principal, 'jsonrpc', {}, 'PARSE_ERROR');
    },
  };
}
