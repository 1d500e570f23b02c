/**
 * `X-Gatehouse-Toolsets: a,b` — a connection narrows itself to some of the
 * server's toolsets. The header is read on every request: the stateless paths
 * build (or reuse) a server for the principal narrowed this way, per request;
 * a 2025-era session is built once, at initialize, so its toolsets are fixed
 * then, and a later request of the session that names other toolsets is
 * refused (sessions.ts). The operator's `<P>_TOOLSETS` bounds every choice
 * (call/policy.ts `narrowToolsets`): a header narrows, never widens.
 */
import type { IncomingMessage } from 'node:http';
import type { AuthInfo } from '@modelcontextprotocol/server';
import { narrowToolsets, type Principal } from '../call/policy.ts';
import { closest } from '../config/names.ts';
import type { Gateway } from './gateway.ts';
import type { RequestState } from './wire.ts';

const TOOLSETS_HEADER = 'x-gatehouse-toolsets';
/** Longest header value read; a longer one is refused rather than cut. */
const MAX_HEADER_LENGTH = 1024;

type Parsed = { toolsets: string[] | undefined } | { refused: string; toolset?: string };

/** The toolsets a header value names: absent, the names, or why it is refused (one line). */
function parseToolsetsHeader(value: string | string[] | undefined, known: readonly string[]): Parsed {
  if (value === undefined) return { toolsets: undefined };
  const text = Array.isArray(value) ? value.join(',') : value;
  if (text.length > MAX_HEADER_LENGTH)
    return { refused: `X-Gatehouse-Toolsets is longer than ${MAX_HEADER_LENGTH} characters` };
  const names = text
    .split(',')
    .map((name) => name.trim())
    .filter(Boolean);
  if (names.length === 0)
    return { refused: `X-Gatehouse-Toolsets names no toolset; valid: ${known.join(', ')}` };
  const valid = new Set(known);
  const unknown = names.find((name) => !valid.has(name));
  if (unknown === undefined) return { toolsets: names };
  const shown = unknown.slice(0, 64);
  const near = closest(shown, known);
  return {
    toolset: shown,
    refused: `X-Gatehouse-Toolsets names an unknown toolset ${JSON.stringify(shown)}${near ? ` (did you mean ${JSON.stringify(near)}?)` : ''}; valid: ${known.join(', ')}`,
  };
}

/** A typed 400: a JSON-RPC error whose data carries the stable code and the toolset named. */
function refusal(message: string, toolset: string | undefined, known: readonly string[]): Response {
  return Response.json(
    {
      jsonrpc: '2.0',
      error: {
        code: -32602,
        message,
        data: { code: 'UNKNOWN_TOOLSET', ...(toolset === undefined ? {} : { toolset }), valid: known },
      },
      id: null,
    },
    { status: 400, headers: { 'cache-control': 'no-store' } },
  );
}

/**
 * The principal this request acts as, narrowed to its toolsets (and handed to
 * the SDK's factory through `authInfo`), or the audited 400 refusing a header
 * that names an unknown toolset.
 */
export function narrowRequest(
  g: Gateway,
  req: IncomingMessage,
  state: RequestState,
  principal: Principal,
  authInfo: AuthInfo,
): Principal | Response {
  const known = Object.keys(g.runtime.definition.toolsets);
  const parsed = parseToolsetsHeader(req.headers[TOOLSETS_HEADER], known);
  if ('refused' in parsed) {
    g.audit(
      principal,
      'protocol',
      'http',
      'UNKNOWN_TOOLSET',
      parsed.toolset === undefined ? {} : { toolset: parsed.toolset },
      state.id,
      'invalid',
    );
    return g.refuse(state, 'toolsets', refusal(parsed.refused, parsed.toolset, known));
  }
  const narrowed = narrowToolsets(principal, g.runtime.policy, parsed.toolsets);
  if (narrowed !== principal) authInfo.extra = { ...authInfo.extra, principal: narrowed };
  return narrowed;
}

/** What identifies a principal's toolsets, for comparing a session's with a later request's. */
export const toolsetsKey = (principal: Principal): string =>
  principal.toolsets === undefined ? '*' : [...principal.toolsets].sort().join(',');

/** A session's toolsets are fixed at initialize: a request naming others is refused, typed. */
export function toolsetsChanged(): Response {
  return Response.json(
    {
      jsonrpc: '2.0',
      error: {
        code: -32600,
        message:
          "X-Gatehouse-Toolsets differs from the session's: a session keeps the toolsets it was initialized with. Send the same header, or open a new session.",
        data: { code: 'TOOLSETS_CHANGED' },
      },
      id: null,
    },
    { status: 400, headers: { 'cache-control': 'no-store' } },
  );
}
