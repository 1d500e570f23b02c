/**
 * Every tool call the server answers leaves exactly one record, whatever its
 * arguments: nested thousands of levels deep (the digest and the redaction
 * used to overflow the stack, losing the record of an answered call), more
 * values than the SDK itself accepted (it answered untyped and unaudited), or
 * `arguments` that are not an object at all (refused inside the SDK, likewise).
 * In-process, stdio semantics, the real v2 client.
 */
import type { Client } from '@modelcontextprotocol/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  expectInvalidOnce,
  fixture,
  type Harness,
  STATUS_CALL,
  startHarness,
} from '../testing/fixture/harness.ts';
import { type Connected, connectV2, errorOf, readAudit } from '../testing/index.ts';
import { MAX_ARGUMENT_DEPTH, MAX_ARGUMENT_ELEMENTS } from './tool-call.ts';

let h: Harness;
let c: Connected<Client>;
let auditFile: string;

beforeAll(async () => {
  h = await startHarness();
  const env = h.env();
  auditFile = env.FIXTURE_AUDIT_FILE;
  c = await connectV2({ server: fixture, env });
});
afterAll(async () => {
  await c?.close();
  await h?.close();
});

const nestedObjects = (levels: number): unknown => {
  let value: unknown = 'x';
  for (let i = 0; i < levels; i++) value = { a: value };
  return value;
};
const nestedArrays = (levels: number): unknown => JSON.parse(`${'['.repeat(levels)}${']'.repeat(levels)}`);

/** Calls the fixture's read tool with `args` as `arguments`; the answer and the records it left. */
async function callWith(args: unknown, name = STATUS_CALL.name) {
  const before = readAudit(auditFile, 'all').length;
  const result = await c.client.callTool({ name, arguments: args as Record<string, unknown> });
  // Records are on disk before the answer leaves; a late second one would show here.
  await new Promise((resolve) => setTimeout(resolve, 50));
  return { result, records: readAudit(auditFile, 'all').slice(before) };
}

describe('arguments the seam refuses by shape, typed and audited once', () => {
  it.each([
    ['objects nested 3,000 deep', { item: 'orders-api', extra: nestedObjects(3_000) }],
    ['arrays nested 3,000 deep', { item: nestedArrays(3_000) }],
    ['objects nested 200,000 deep', { item: nestedObjects(200_000) }],
  ])('%s', async (_label, args) => {
    const { result, records } = await callWith(args);
    expect(errorOf(result)?.code).toBe('INVALID_ARGUMENT');
    expect(errorOf(result)?.message).toContain(`more than ${MAX_ARGUMENT_DEPTH} levels`);
    expect(records).toHaveLength(1);
    expect(records[0]).toMatchObject({
      event: 'call',
      kind: 'tool',
      name: STATUS_CALL.name,
      decision: 'invalid',
      outcome: 'error',
      errorCode: 'INVALID_ARGUMENT',
      args: { depth: MAX_ARGUMENT_DEPTH + 1 },
    });
    expect(records[0]!.argsDigest).toMatch(/^[A-Za-z0-9_-]{43}$/);
  });

  it.each([
    ['60,000 values (over the SDK limit it used to answer itself)', 60_000],
    ['6,000 values', 6_000],
  ])('%s', async (_label, count) => {
    const { result, records } = await callWith({ item: Array.from({ length: count }, () => 1) });
    expect(errorOf(result)?.code).toBe('INVALID_ARGUMENT');
    expect(errorOf(result)?.message).toContain(`more than ${MAX_ARGUMENT_ELEMENTS} values`);
    expect(records).toHaveLength(1);
    expect(records[0]).toMatchObject({ kind: 'tool', decision: 'invalid', errorCode: 'INVALID_ARGUMENT' });
    expect((records[0]!.args as { elements: number }).elements).toBeGreaterThan(MAX_ARGUMENT_ELEMENTS);
  });

  it('digests deep arguments the same way whichever way they were written', async () => {
    const first = await callWith({ item: nestedObjects(5_000), b: 1 });
    const second = await callWith({ b: 1, item: nestedObjects(5_000) });
    expect(first.records[0]!.argsDigest).toBe(second.records[0]!.argsDigest);
  });
});

describe('arguments that are not an object, typed and audited once', () => {
  it.each([
    ['an array', [1, 2], 'array'],
    ['a string', 'orders-api', 'string'],
    ['a number', 5, 'number'],
    ['a boolean', true, 'boolean'],
    ['null', null, 'null'],
  ])('%s', async (_label, args, type) => {
    const { result, records } = await callWith(args);
    expect(errorOf(result)?.code).toBe('INVALID_ARGUMENT');
    expect(errorOf(result)?.message).toContain('must be an object');
    expectInvalidOnce(records, { type });
  });

  it('answers a carrier a client wrapped itself no differently from what it carries', async () => {
    const { result, records } = await callWith({ 'dev.gatehouse/arguments': [1] });
    expect(errorOf(result)?.code).toBe('INVALID_ARGUMENT');
    expect(records).toHaveLength(1);
    // An object inside it is not unwrapped: the strict schema refuses the unknown member.
    const wrapped = await callWith({ 'dev.gatehouse/arguments': { item: 'orders-api' } });
    expect(errorOf(wrapped.result)?.message).toContain('Unrecognized key');
    expect(wrapped.records).toHaveLength(1);
  });

  it('still serves the same connection normally', async () => {
    const { result, records } = await callWith(STATUS_CALL.arguments);
    expect(result.isError).toBeFalsy();
    expect(records).toHaveLength(1);
  });
});

describe('requests the SDK answers alone, audited once', () => {
  it('an unknown tool, with arguments of any shape', async () => {
    for (const args of [{ a: 1 }, [1], 'x', nestedObjects(3_000)]) {
      const before = readAudit(auditFile, 'all').length;
      await expect(c.client.callTool({ name: 'no_such_tool', arguments: args as never })).rejects.toThrow(
        /not found/,
      );
      await new Promise((resolve) => setTimeout(resolve, 50));
      const records = readAudit(auditFile, 'all').slice(before);
      expect(records).toHaveLength(1);
      expect(records[0]).toMatchObject({ kind: 'protocol', name: 'no_such_tool', errorCode: 'UNKNOWN_TOOL' });
    }
  });

  it('a tools/call without a tool name', async () => {
    const before = readAudit(auditFile, 'all').length;
    await expect(
      c.client.request({ method: 'tools/call', params: { arguments: {} } } as never),
    ).rejects.toThrow();
    await new Promise((resolve) => setTimeout(resolve, 50));
    const records = readAudit(auditFile, 'all').slice(before);
    expect(records).toHaveLength(1);
    expect(records[0]).toMatchObject({ kind: 'protocol', name: 'tools/call', errorCode: 'INVALID_REQUEST' });
  });
});
