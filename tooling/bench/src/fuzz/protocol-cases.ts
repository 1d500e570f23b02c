/**
 * The cases the stdio protocol fuzz sends: lines that are not JSON, JSON that
 * is not JSON-RPC, ids at the edges, unknown methods, random garbage, and the
 * line cap a request must stay under.
 */
import { fc } from './index.ts';

export const STDIO_LINE_CAP = 4 * 1024 * 1024;

export const initializeLine = (id: number | string, protocolVersion = '2025-11-25') =>
  JSON.stringify({
    jsonrpc: '2.0',
    id,
    method: 'initialize',
    params: { protocolVersion, capabilities: {}, clientInfo: { name: 'protocol-fuzz', version: '0' } },
  });

/** Lines that are not JSON at all: -32700, id null. */
export const MALFORMED_LINES: ReadonlyArray<readonly [label: string, line: string]> = [
  ['plain text', 'this is not json'],
  ['truncated object', '{"jsonrpc":"2.0","id":1,"method":"ping"'],
  ['trailing comma', '{"jsonrpc":"2.0","id":1,"method":"ping",}'],
  ['single quotes', "{'jsonrpc':'2.0','id':1,'method':'ping'}"],
  ['NaN literal', '{"jsonrpc":"2.0","id":NaN,"method":"ping"}'],
  ['lone surrogate escape half', '{"jsonrpc":"2.0","id":1,"method":"ping\\u'],
  ['binary', '\u0000\u0001\u0002\u00ff\ufffd'],
  ['BOM then garbage', '\ufeff{{{'],
];

/** Lines that are JSON but not a JSON-RPC message: -32600, id null. */
export const INVALID_REQUESTS: ReadonlyArray<readonly [label: string, line: string]> = [
  ['empty batch', '[]'],
  ['batch array', '[{"jsonrpc":"2.0","id":5,"method":"ping"}]'],
  ['null', 'null'],
  ['number', '42'],
  ['string', '"ping"'],
  ['missing jsonrpc', '{"id":6,"method":"ping"}'],
  ['jsonrpc 1.0', '{"jsonrpc":"1.0","id":7,"method":"ping"}'],
  ['object id', '{"jsonrpc":"2.0","id":{"a":1},"method":"ping"}'],
  ['boolean id', '{"jsonrpc":"2.0","id":true,"method":"ping"}'],
  ['numeric method', '{"jsonrpc":"2.0","id":8,"method":5}'],
  ['neither method nor result', '{"jsonrpc":"2.0","id":9}'],
  ['params not an object', '{"jsonrpc":"2.0","id":11,"method":"tools/call","params":"x"}'],
  ['id beyond 2^53', `{"jsonrpc":"2.0","id":${2 ** 53 + 2},"method":"ping"}`],
  ['id 1e308', '{"jsonrpc":"2.0","id":1e308,"method":"ping"}'],
  ['fractional id', '{"jsonrpc":"2.0","id":1.5,"method":"ping"}'],
];

/** Ids at the edges of what JSON-RPC allows: each must come back exactly as sent. */
export const EDGE_IDS: ReadonlyArray<string | number> = [
  Number.MAX_SAFE_INTEGER,
  -Number.MAX_SAFE_INTEGER,
  0,
  -1,
  '',
  'x'.repeat(100_000),
  '\u202e\u200b𝕮',
  '__proto__',
];

export const UNKNOWN_METHODS: readonly string[] = [
  'no/such/method',
  'tools/unknown',
  '__proto__',
  'constructor',
  'rpc.discover',
  `x/${'a'.repeat(10_000)}`,
];

/** Lines no server may take for a message: binary, any JSON, and objects of JSON-RPC's keys with stray values. */
export const garbageLines = () =>
  fc
    .oneof(
      fc.string({ unit: 'binary', minLength: 1, maxLength: 200 }),
      fc.jsonValue({ maxDepth: 3 }).map((v) => JSON.stringify(v)),
      fc
        .dictionary(
          fc.constantFrom('jsonrpc', 'id', 'method', 'params', 'result', 'error', 'x'),
          fc.jsonValue({ maxDepth: 2 }),
        )
        .map((v) => JSON.stringify(v)),
    )
    .map((s) => s.replace(/[\r\n]/g, ' '))
    .filter((s) => s.trim() !== '' && !isValidMessage(s));

function isValidMessage(line: string): boolean {
  try {
    const v = JSON.parse(line) as Record<string, unknown>;
    return v !== null && typeof v === 'object' && !Array.isArray(v) && v.jsonrpc === '2.0';
  } catch {
    return false;
  }
}
