import type {
  AuthInfo,
  JSONRPCMessage,
  JSONRPCRequest,
  McpServer,
  MessageExtraInfo,
  Transport,
} from '@modelcontextprotocol/server';
import { LEGACY_VERSIONS } from '../call/direct.ts';
import type { Principal } from '../call/policy.ts';
import { carryInboundToken } from '../upstream/identity.ts';
import { toolsetsKey } from './toolsets.ts';

/**
 * Requests that neither change the serving instance nor need a stream back:
 * `initialize`, `logging/setLevel`, subscriptions and anything carrying a
 * progress token still get a fresh instance from the SDK's handler.
 */
const REUSABLE_METHODS = new Set([
  'tools/call',
  'tools/list',
  'resources/list',
  'resources/read',
  'resources/templates/list',
  'prompts/list',
  'prompts/get',
  'completion/complete',
  'ping',
]);

/**
 * The one JSON-RPC request of a stateless 2025-era POST that a kept server may
 * answer, or undefined when the request must take the SDK's own path (which
 * also owns every error answer: wrong media types, bad shapes, versions).
 */
export function reusableRequest(
  headers: { accept?: string; 'content-type'?: string; 'mcp-protocol-version'?: string | string[] },
  /** The body as parsed at the door (once per request). */
  message: unknown,
): JSONRPCRequest | undefined {
  const version = headers['mcp-protocol-version'];
  if (typeof version !== 'string' || !LEGACY_VERSIONS.has(version)) return undefined;
  const accept = headers.accept ?? '';
  if (!accept.includes('application/json') || !accept.includes('text/event-stream')) return undefined;
  if (!/^application\/json\s*(;|$)/i.test(headers['content-type'] ?? '')) return undefined;
  if (!message || typeof message !== 'object' || Array.isArray(message)) return undefined;
  const { jsonrpc, id, method, params } = message as Record<string, unknown>;
  if (jsonrpc !== '2.0' || typeof method !== 'string' || !REUSABLE_METHODS.has(method)) return undefined;
  if (!(typeof id === 'string' || (typeof id === 'number' && Number.isSafeInteger(id)))) return undefined;
  if (params !== undefined && (typeof params !== 'object' || params === null || Array.isArray(params)))
    return undefined;
  const meta = (params as { _meta?: unknown } | undefined)?._meta;
  if (meta !== undefined) {
    if (typeof meta !== 'object' || meta === null) return undefined;
    // A progress token asks for a stream; a 2026 envelope belongs to the modern path.
    for (const key of Object.keys(meta))
      if (key === 'progressToken' || key.includes('modelcontextprotocol')) return undefined;
  }
  return message as JSONRPCRequest;
}

interface Waiting {
  id: JSONRPCRequest['id'];
  resolve: (message: JSONRPCMessage | undefined) => void;
}

/**
 * An in-process transport that lets many HTTP requests share one connected
 * server at once. Each request gets an id of its own on the way in (callers'
 * ids collide: every client starts at 1) and its own id back on the way out.
 * Notifications are dropped, as in a JSON response; server-to-client requests
 * cannot happen, because a kept server never saw an `initialize` and so knows
 * of no client capability.
 */
class DispatchTransport implements Transport {
  onclose?: () => void;
  onerror?: (error: Error) => void;
  onmessage?: (message: JSONRPCMessage, extra?: MessageExtraInfo) => void;
  private readonly waiting = new Map<number, Waiting>();
  private next = 0;

  async start(): Promise<void> {}

  async close(): Promise<void> {
    for (const { resolve } of this.waiting.values()) resolve(undefined);
    this.waiting.clear();
    this.onclose?.();
  }

  async send(message: JSONRPCMessage): Promise<void> {
    if (!('id' in message) || 'method' in message || typeof message.id !== 'number') return;
    const waiting = this.waiting.get(message.id);
    if (!waiting) return;
    this.waiting.delete(message.id);
    waiting.resolve({ ...message, id: waiting.id } as JSONRPCMessage);
  }

  /** Resolves with the answer, or undefined when the caller went away first. */
  dispatch(
    request: JSONRPCRequest,
    authInfo: AuthInfo,
    signal: AbortSignal,
  ): Promise<JSONRPCMessage | undefined> {
    const own = ++this.next;
    return new Promise((resolve) => {
      this.waiting.set(own, { id: request.id, resolve });
      signal.addEventListener(
        'abort',
        () => {
          if (!this.waiting.delete(own)) return;
          resolve(undefined);
          this.onmessage?.({
            jsonrpc: '2.0',
            method: 'notifications/cancelled',
            params: { requestId: own, reason: 'The HTTP client disconnected.' },
          });
        },
        { once: true },
      );
      this.onmessage?.({ ...request, id: own }, { authInfo });
    });
  }
}

/** A kept server: asked about scope challenges through `mcp`, sent requests through `transport`. */
export interface Kept {
  mcp: McpServer;
  transport: DispatchTransport;
  /** The principal the kept server was built for (its calls run as it). */
  principal: Principal;
  /** The tools `mcp` registered (call/build.ts servedTools): any other name is an unknown tool. */
  tools: ReadonlySet<string>;
}

/** What KeptServers builds for a principal: the server and the tools it registered. */
export interface KeptBuild {
  mcp: McpServer;
  tools: ReadonlySet<string>;
}

/** Keys of principals seen before: an API key's principal is one object for the life of the process. */
const principalKeys = new WeakMap<Principal, string>();

/** Who the kept server acts for: identity, the exact scopes it may use and the toolsets it is narrowed to. */
function keyOf(principal: Principal): string {
  let key = principalKeys.get(principal);
  if (key === undefined) {
    key = `${principal.kind}\u0000${principal.id}\u0000${principal.clientId ?? ''}\u0000${[...principal.scopes].sort().join(' ')}\u0000${toolsetsKey(principal)}`;
    principalKeys.set(principal, key);
  }
  return key;
}

/**
 * Servers kept per principal (identity, scopes and toolsets) for stateless 2025-era
 * requests, so a call does not pay for building a server: the SDK's handler
 * builds one per request. Bounded; the least recently used is closed first.
 */
export class KeptServers {
  private readonly kept = new Map<string, Promise<Kept>>();
  /** Servers already connected, by their promise: the next request takes one without waiting on it. */
  private readonly ready = new WeakMap<Promise<Kept>, Kept>();
  private readonly build: (principal: Principal) => KeptBuild;
  private readonly max: number;

  constructor(build: (principal: Principal) => KeptBuild, max = 64) {
    this.build = build;
    this.max = max;
  }

  async closeAll(): Promise<void> {
    const all = [...this.kept.values()];
    this.kept.clear();
    await Promise.all(all.map(async (entry) => (await entry).mcp.close().catch(() => undefined)));
  }

  /** The server kept for this principal, built and connected on first use (at once once connected). */
  get(principal: Principal): Kept | Promise<Kept> {
    const key = keyOf(principal);
    const found = this.kept.get(key);
    if (found) {
      // Most recently used last: Map keeps insertion order.
      this.kept.delete(key);
      this.kept.set(key, found);
      // The same caller with a newer access token: its calls exchange the newer one.
      const ready = this.ready.get(found);
      if (ready) {
        carryInboundToken(principal, ready.principal);
        return ready;
      }
      return found.then((kept) => {
        carryInboundToken(principal, kept.principal);
        return kept;
      });
    }
    const created = (async () => {
      const { mcp, tools } = this.build(principal);
      const transport = new DispatchTransport();
      await mcp.connect(transport);
      return { mcp, transport, principal, tools };
    })();
    void created.then((kept) => this.ready.set(created, kept)).catch(() => undefined);
    this.kept.set(key, created);
    if (this.kept.size > this.max) {
      const [oldest] = this.kept.keys();
      if (oldest !== undefined) {
        const evicted = this.kept.get(oldest);
        this.kept.delete(oldest);
        // In-flight requests on it still get their answers: close once they are done.
        void evicted?.then((kept) =>
          setTimeout(() => void kept.mcp.close().catch(() => undefined), 30_000).unref(),
        );
      }
    }
    return created;
  }
}
