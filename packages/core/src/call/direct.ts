/**
 * The common 2025-era request — a plain `tools/call` of a tool the serving
 * instance registered, stateless over HTTP (http/mcp.ts) or on a stdio
 * connection (stdio/transport.ts) — answered straight through the seam
 * (./tool-call.ts) instead of through the SDK's protocol layer. Every
 * Gatehouse stage runs as on the SDK path (toolsets, admission, strict
 * validation, scopes, rules, the output check, the audit record); what is
 * skipped is the SDK re-checking what the seam guarantees: the message's
 * shape against each JSON-RPC schema in turn, the request and the result
 * against their tools/call schemas, and the advertised schemas that validate
 * nothing (call/runtime.ts). Anything else — another method, `_meta`, extra
 * params, arguments that are not an object, an unknown tool, a tool that may
 * need a human's approval, an output schema that is not an object — takes
 * the SDK's path, which owns those answers.
 */
import type {
  CallToolResult,
  JSONRPCRequest,
  JSONRPCResultResponse,
  McpServer,
} from '@modelcontextprotocol/server';
import type { SeamContext } from './context.ts';
import { needsApproval } from './definition.ts';
import type { Principal } from './policy.ts';
import type { Runtime } from './runtime.ts';
import { runTool } from './tool-call.ts';

/** 2025-era revisions: the only ones whose tools/call the seam answers alone (2026 brings requestState and input_required). */
export const LEGACY_VERSIONS: ReadonlySet<string> = new Set(['2025-03-26', '2025-06-18', '2025-11-25']);

/** The instance that would otherwise answer: its tools (any other name is the SDK's unknown tool) and whom it serves. */
export interface DirectTarget {
  mcp: McpServer;
  principal: Principal;
  /** Every tool `mcp` registered (./build.ts servedTools). */
  tools: ReadonlySet<string>;
}

const PARAM_KEYS = new Set(['name', 'arguments']);

const isPlainObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** Nothing to notify: a direct call carries no progress token (a call with `_meta` takes the SDK's path). */
const silent = async () => undefined;

/**
 * The answer of a request the seam can serve alone, or undefined when the
 * request must take the SDK's path. `signal` aborts when the client goes away or cancels.
 */
export function directToolCall(
  runtime: Runtime,
  kept: DirectTarget,
  request: JSONRPCRequest,
  signal: AbortSignal,
): Promise<JSONRPCResultResponse> | undefined {
  if (request.method !== 'tools/call') return undefined;
  const params = request.params;
  if (!isPlainObject(params)) return undefined;
  for (const key of Object.keys(params)) if (!PARAM_KEYS.has(key)) return undefined;
  const { name, arguments: args } = params;
  if (typeof name !== 'string' || !kept.tools.has(name)) return undefined;
  if (args !== undefined && !isPlainObject(args)) return undefined;
  const prepared = runtime.tools.get(name);
  if (!prepared || needsApproval(prepared.tool)) return undefined;
  const output = prepared.listed.outputSchema;
  if (output !== undefined && output.type !== 'object') return undefined;
  const ctx: SeamContext = { direct: true, mcpReq: { signal, _meta: undefined, notify: silent } };
  return runTool(runtime, prepared, args, ctx, kept.mcp, kept.principal).then((result: CallToolResult) => ({
    jsonrpc: '2.0',
    id: request.id,
    result,
  }));
}
