/**
 * Driving a raw JSON-RPC peer line by line: fresh ids, a ping barrier that
 * proves everything written before it was handled, and the check that a line
 * was rejected with exactly one id-null error.
 */
import assert from 'node:assert/strict';

/** The part of `RawPeer` (from '@gatehouse/core/testing') this module drives. */
export interface ProtocolPeer {
  child: { stdin: NodeJS.WritableStream };
  lines: string[];
  send(line: string): void;
  next(
    predicate: (message: Record<string, unknown>) => boolean,
    timeoutMs?: number,
  ): Promise<Record<string, unknown>>;
  stderr(): string;
}

let seq = 0;
export const nextId = (tag: string) => `${tag}-${++seq}`;
const nullErrors = (peer: ProtocolPeer) =>
  peer.lines.filter((l) => l.startsWith('{') && l.includes('"id":null') && l.includes('"error"')).length;

/** Sends a ping and waits for its answer: everything written before it has been handled. */
export async function barrier(peer: ProtocolPeer, timeoutMs = 10_000): Promise<void> {
  const id = nextId('barrier');
  peer.send(JSON.stringify({ jsonrpc: '2.0', id, method: 'ping' }));
  const answer = await peer.next((m) => m.id === id, timeoutMs);
  assert.deepEqual(answer.result, {}, `ping ${id} was not answered with {}`);
}

/** Writes `line` and asserts exactly one id-null error with `code` came back for it (nothing else). */
export async function expectRejected(
  peer: ProtocolPeer,
  line: string,
  codes: readonly number[],
  label: string,
) {
  const before = nullErrors(peer);
  const linesBefore = peer.lines.length;
  peer.send(line);
  await barrier(peer);
  const after = peer.lines.slice(linesBefore, -1);
  assert.equal(
    nullErrors(peer) - before,
    1,
    `${label}: expected exactly one id-null error, got ${after.join(' | ').slice(0, 400)}`,
  );
  assert.equal(after.length, 1, `${label}: expected one answer, got ${after.length}`);
  const error = JSON.parse(after[0]!) as {
    jsonrpc: string;
    id: null;
    error: { code: number; message: string };
  };
  assert.equal(error.jsonrpc, '2.0');
  assert.ok(
    codes.includes(error.error.code),
    `${label}: code ${error.error.code}, expected ${codes.join(' or ')}`,
  );
  return error.error;
}
