import { describe, expect, it } from 'vitest';
import { maskPii } from '../define/pii.ts';
import { SECRET_KEYS } from '../telemetry/logger.ts';
import { MAX_REDACTED_DEPTH, MAX_REDACTED_VALUES, redactArgs, TRUNCATED } from './redact.ts';

describe('audit log', () => {
  it('redacts secrets and sensitive fields, masks personal data, bounds long values', () => {
    const out = redactArgs(
      {
        token: 't',
        nested: { Authorization: 'Bearer x' },
        note: 'mail a@b.example',
        reason: 'why',
        long: 'y'.repeat(2000),
      },
      ['reason'],
    );
    expect(out).toMatchObject({
      token: '[REDACTED]',
      nested: { Authorization: '[REDACTED]' },
      note: 'mail a***@b.example',
      reason: '[REDACTED]',
    });
    expect(String((out as { long: string }).long).length).toBeLessThan(600);
  });
});

/** The recursive implementation the iterative one replaced: the audit format for normal arguments. */
function recursiveRedact(args: unknown, sensitive: readonly string[] = []): unknown {
  const secret = new Set([...SECRET_KEYS, ...sensitive].map((k) => k.toLowerCase()));
  const walk = (value: unknown): unknown => {
    if (Array.isArray(value)) return value.map(walk);
    if (value && typeof value === 'object') {
      return Object.fromEntries(
        Object.entries(value).map(([k, v]) => [k, secret.has(k.toLowerCase()) ? '[REDACTED]' : walk(v)]),
      );
    }
    if (typeof value === 'string')
      return maskPii(value.length > 512 ? `${value.slice(0, 512)}…[${value.length} chars]` : value);
    return value;
  };
  return walk(args);
}

const deepObject = (levels: number) => {
  let v: unknown = 'x';
  for (let i = 0; i < levels; i++) v = { a: v };
  return v;
};

describe('redaction without recursion', () => {
  const corpus: unknown[] = [
    { item: 'orders-api', environment: 'production', reason: 'because', limit: 5 },
    { '10': 1, '9': 2, b: { Token: 'secret', list: [1, 'a@b.example', null, true, { password: 'p' }] } },
    JSON.parse('{"__proto__": {"x": "+1 415 555 0100"}, "a": [[], {}, [[["deep"]]]]}'),
    [1, [2, [3, [4, { k: 'IBAN DE89370400440532013000' }]]]],
    // biome-ignore lint/suspicious/noSparseArray: a hole stays a hole.
    { sparse: [1, , 3], when: new Date(0), undef: undefined },
    'pm_1234567890 and a@b.example',
    42,
    null,
    { long: 'y'.repeat(2_000), nested: { reason: 'r', Authorization: 'Bearer x' } },
  ];

  it('writes the same record as the recursive walk for normal arguments (the serialised line too)', () => {
    for (const value of corpus) {
      expect(redactArgs(value, ['reason'])).toStrictEqual(recursiveRedact(value, ['reason']));
      expect(JSON.stringify(redactArgs(value, ['reason']))).toBe(
        JSON.stringify(recursiveRedact(value, ['reason'])),
      );
    }
    const wide = { list: Array.from({ length: 1_600 }, (_, i) => ({ i, note: `n${i}` })) };
    expect(JSON.stringify(redactArgs(wide))).toBe(JSON.stringify(recursiveRedact(wide)));
  });

  it('keeps arguments nested 3,000 (and 500,000) deep off the call stack, cut at a bounded depth', () => {
    // What failed before: the recursive walk overflows the stack, and the record was lost.
    expect(() => recursiveRedact(deepObject(100_000))).toThrow(RangeError);
    for (const levels of [3_000, 500_000]) {
      const out = redactArgs(deepObject(levels));
      const line = JSON.stringify(out);
      expect(line.length).toBeLessThan(1_000);
      expect(line).toContain(TRUNCATED);
      let depth = 0;
      for (let v = out as { a?: unknown }; v && typeof v === 'object'; v = v.a as { a?: unknown }) depth += 1;
      expect(depth).toBe(MAX_REDACTED_DEPTH);
    }
  });

  it('bounds how many values reach the trail, marking the cut', () => {
    const out = redactArgs({ list: Array.from({ length: 60_000 }, () => 1) }) as { list: unknown[] };
    expect(out.list.length).toBeLessThanOrEqual(MAX_REDACTED_VALUES + 1);
    expect(out.list.at(-1)).toBe(TRUNCATED);
    const members = redactArgs(Object.fromEntries(Array.from({ length: 20_000 }, (_, i) => [`k${i}`, i])));
    expect(Object.keys(members as object).length).toBeLessThanOrEqual(MAX_REDACTED_VALUES + 1);
  });
});
