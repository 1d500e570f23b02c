import { randomUUID } from 'node:crypto';
import {
  type AuthInfo,
  isInitializeRequest,
  type McpServer,
  WebStandardStreamableHTTPServerTransport,
} from '@modelcontextprotocol/server';
import type { Principal } from '../call/policy.ts';
import type { Logger } from '../telemetry/logger.ts';
import { toolsetsChanged, toolsetsKey } from './toolsets.ts';

interface Session {
  transport: WebStandardStreamableHTTPServerTransport;
  server: McpServer;
  principalKey: string;
  /** The toolsets chosen at initialize (http/toolsets.ts): fixed for the session's life. */
  toolsets: string;
  lastSeen: number;
}

export function jsonRpcError(
  status: number,
  code: number,
  message: string,
  headers: Record<string, string> = {},
): Response {
  return Response.json(
    { jsonrpc: '2.0', error: { code, message }, id: null },
    { status, headers: { ...headers, 'cache-control': 'no-store' } },
  );
}

/**
 * Optional 2025-11-25 sessions: one server instance per session, bound to the
 * principal that opened it. The session id only routes; every request is
 * still authenticated, and a session presented by another principal is
 * answered exactly like an unknown one (404).
 */
export class SessionStore {
  private readonly sessions = new Map<string, Session>();
  private readonly timer: NodeJS.Timeout;
  private readonly options: {
    ttlMs: number;
    max: number;
    build: (principal: Principal) => McpServer;
    log: Logger;
    onMismatch: (principal: Principal) => void;
    onToolsetsChanged: (principal: Principal) => void;
  };

  constructor(options: SessionStore['options']) {
    this.options = options;
    this.timer = setInterval(() => this.sweep(), Math.min(options.ttlMs / 2, 60_000));
    this.timer.unref();
  }

  get size(): number {
    return this.sessions.size;
  }

  async handle(
    request: Request,
    authInfo: AuthInfo,
    principal: Principal,
    principalKey: string,
  ): Promise<Response> {
    const id = request.headers.get('mcp-session-id');
    if (id) {
      const session = this.sessions.get(id);
      if (!session || session.principalKey !== principalKey) {
        if (session) this.options.onMismatch(principal);
        return jsonRpcError(404, -32001, 'Session not found');
      }
      if (session.toolsets !== toolsetsKey(principal)) {
        this.options.onToolsetsChanged(principal);
        return toolsetsChanged();
      }
      session.lastSeen = Date.now();
      return session.transport.handleRequest(request, { authInfo });
    }
    if (request.method !== 'POST')
      return jsonRpcError(400, -32000, 'Bad Request: Mcp-Session-Id header is required');
    let body: unknown;
    try {
      body = await request.clone().json();
    } catch {
      return jsonRpcError(400, -32700, 'Parse error');
    }
    if (!isInitializeRequest(body))
      return jsonRpcError(400, -32000, 'Bad Request: Mcp-Session-Id header is required');
    if (this.sessions.size >= this.options.max)
      return jsonRpcError(503, -32000, 'Too many open sessions; try again later', { 'retry-after': '5' });
    const server = this.options.build(principal);
    const session: Session = {
      server,
      principalKey,
      toolsets: toolsetsKey(principal),
      lastSeen: Date.now(),
      transport: new WebStandardStreamableHTTPServerTransport({
        sessionIdGenerator: () => randomUUID(),
        onsessioninitialized: (sid) => {
          this.sessions.set(sid, session);
        },
        onsessionclosed: (sid) => {
          this.sessions.delete(sid);
          void server.close().catch(() => undefined);
        },
      }),
    };
    await server.connect(session.transport);
    return session.transport.handleRequest(request, { authInfo, parsedBody: body });
  }

  private sweep(now = Date.now()): void {
    for (const [id, session] of this.sessions) {
      if (now - session.lastSeen < this.options.ttlMs) continue;
      this.sessions.delete(id);
      void session.transport.close().catch(() => undefined);
      void session.server.close().catch(() => undefined);
      this.options.log.debug({ session: id.slice(0, 8) }, 'session expired');
    }
  }

  async closeAll(): Promise<void> {
    clearInterval(this.timer);
    const all = [...this.sessions.values()];
    this.sessions.clear();
    await Promise.allSettled(all.flatMap((s) => [s.transport.close(), s.server.close()]));
  }
}
