import type { InboundObserver } from '../stdio/transport.ts';
import { visibleToolNames } from './build.ts';
import type { Principal } from './policy.ts';
import { auditProtocolEvent } from './read.ts';
import type { Runtime } from './runtime.ts';

/**
 * What a one-connection transport (stdio, or the test kit's in-memory pair)
 * shows the server before the SDK sees a message: calls to tools this principal
 * cannot see and lines that are not JSON-RPC are answered by the SDK or the
 * transport, so they are audited here.
 */
export function sessionObserver(runtime: Runtime, principal: Principal): InboundObserver {
  const visible = visibleToolNames(runtime, principal);
  return {
    onMessage(message) {
      runtime.idle.touch();
      const request = message as { method?: string; params?: { name?: unknown; arguments?: unknown } };
      if (
        request.method === 'tools/call' &&
        typeof request.params?.name === 'string' &&
        !visible.has(request.params.name)
      ) {
        auditProtocolEvent(
          runtime,
          principal,
          String(request.params.name).slice(0, 128),
          request.params.arguments,
          'UNKNOWN_TOOL',
        );
      }
    },
    onGarbage(error) {
      runtime.log.warn({ err: error.message }, 'unparsable stdin line');
      auditProtocolEvent(runtime, principal, 'jsonrpc', {}, 'PARSE_ERROR');
    },
  };
}
