/** Scratch audit trails for core's audit tests: never the user's state, never beside each other. */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CallRecord } from '../audit/record.ts';

/**
 * Where a test's trail lives: a fresh folder (named after `prefix`) holding the log (`file`, relative
 * to it), the key folder and the anchor folder; server `s`.
 */
export function scratchTrail(prefix: string, file = 'audit.jsonl') {
  const dir = mkdtempSync(join(tmpdir(), `${prefix}-`));
  return {
    dir,
    server: 's',
    file: join(dir, file),
    keyDir: join(dir, 'keys'),
    anchorDir: join(dir, 'anchors'),
  };
}

/** An allowed, answered call of tool `name` by the local principal `p` (call `c`, request `r`). */
export const okCall = (name: string, args: Record<string, unknown> = {}) =>
  new CallRecord({
    principal: { id: 'p', kind: 'local' },
    kind: 'tool',
    name,
    args,
    callId: 'c',
    requestId: 'r',
    decision: 'allowed',
    outcome: 'ok',
  });
