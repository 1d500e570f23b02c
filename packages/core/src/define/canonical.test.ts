import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { canonicalJson, jsonShape, keyedDigest } from './canonical.ts';

/** The recursive implementation the iterative one replaced: its output is the format digests are made in. */
function recursiveCanonicalJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) => {
    if (v && typeof v === 'object' && !Array.isArray(v)) {
      return Object.fromEntries(
        Object.entries(v as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)),
      );
    }
    return v;
  });
}

/** A small seeded generator of JSON-like values (no dependency; the same cases on every run). */
function generator(seed: number) {
  let state = seed >>> 0;
  const next = () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
  const pick = <T>(items: readonly T[]): T => items[Math.floor(next() * items.length)]!;
  const keys = [
    'a',
    'b',
    'B',
    '_',
    'z',
    '0',
    '1',
    '10',
    '9',
    '01',
    '-1',
    '4294967294',
    '4294967295',
    'é',
    '😀',
    '__proto__',
    'constructor',
    '',
  ];
  const strings = ['', 'x', 'mail a@b.example', 'line\nbreak', 'quote"s', '\u2028', '\ud800', 'ünï', '😀'];
  const numbers = [
    0,
    -0,
    1,
    -1,
    1.5,
    1e21,
    1e-7,
    Number.MAX_SAFE_INTEGER,
    Number.NaN,
    Number.POSITIVE_INFINITY,
  ];
  const value = (depth: number): unknown => {
    const roll = next();
    if (depth > 5 || roll < 0.45) {
      return pick<unknown>([null, true, false, undefined, pick(strings), pick(numbers), pick(numbers)]);
    }
    if (roll < 0.7) return Array.from({ length: Math.floor(next() * 5) }, () => value(depth + 1));
    const object: Record<string, unknown> = {};
    for (let i = Math.floor(next() * 6); i > 0; i--) {
      Object.defineProperty(object, pick(keys), {
        value: value(depth + 1),
        enumerable: true,
        configurable: true,
        writable: true,
      });
    }
    return object;
  };
  return value;
}

const CORPUS: unknown[] = [
  { b: 1, a: { d: 2, c: 3 } },
  { item: 'orders-api', environment: 'production', reason: 'restart after deploy', limit: 25 },
  {
    '10': 'ten',
    '9': 'nine',
    '01': 'zero-one',
    a: 1,
    '-1': 'minus',
    '4294967295': 'big',
    '4294967294': 'max',
  },
  JSON.parse('{"__proto__": {"polluted": true}, "z": [1, {"y": null, "x": [true, false]}]}'),
  [],
  {},
  [[], {}, [[]], { a: {} }],
  'plain string',
  42,
  null,
  true,
  { when: new Date(0), buffer: Buffer.from('hi'), list: [undefined, () => 1, Symbol('s')] },
  { skipped: undefined, fn: () => 1, kept: 1 },
  { numbers: [0, -0, 1e21, 1e-7, Number.NaN, Number.NEGATIVE_INFINITY, 2 ** 53] },
  { boxed: [new String('ab'), new Number(5), new Boolean(false)] },
  { custom: { toJSON: (key: string) => ({ key, b: 2, a: 1 }) } },
  { map: new Map([['a', 1]]), set: new Set([1]), typed: new Uint8Array([3, 1, 2]) },
  // biome-ignore lint/suspicious/noSparseArray: holes serialise as null.
  { sparse: [1, , 3] },
  { text: '\u2028\u2029 "quoted" \\ \ud83d\ude00 \udc00 é' },
  { nested: { deeper: { deepest: { list: [1, [2, [3, [4]]]] } } } },
];

describe('canonical digests', () => {
  it('does not depend on key order', () => {
    expect(canonicalJson({ b: 1, a: { d: 2, c: 3 } })).toBe('{"a":{"c":3,"d":2},"b":1}');
    expect(keyedDigest('k', { x: 1, y: 2 })).toBe(keyedDigest('k', { y: 2, x: 1 }));
    expect(keyedDigest('k', { x: 1 })).not.toBe(keyedDigest('other', { x: 1 }));
  });

  it('writes the same text (and digests) as the recursive implementation for every normal value', () => {
    for (const value of CORPUS) {
      expect(canonicalJson(value)).toBe(recursiveCanonicalJson(value));
      const text = recursiveCanonicalJson(value);
      if (text !== undefined)
        expect(keyedDigest('k', value)).toBe(createHmac('sha256', 'k').update(text).digest('base64url'));
    }
    expect(canonicalJson(undefined)).toBe(recursiveCanonicalJson(undefined));
    expect(() => canonicalJson({ n: 1n })).toThrow(TypeError);
    expect(() => recursiveCanonicalJson({ n: 1n })).toThrow(TypeError);
  });

  it('matches the recursive implementation on 2,000 generated values', () => {
    const value = generator(14);
    for (let i = 0; i < 2_000; i++) {
      const sample = value(0);
      expect(canonicalJson(sample)).toBe(recursiveCanonicalJson(sample));
    }
  });

  it('digests arguments nested far deeper than the call stack allows', () => {
    const deepObject = (levels: number) => {
      let v: unknown = 'x';
      for (let i = 0; i < levels; i++) v = { a: v };
      return v;
    };
    // What failed before: the recursive walk overflows the stack (at ~3,000 levels deep in the call
    // path, sooner or later depending on the stack already in use), and the record of the call was lost.
    expect(() => recursiveCanonicalJson(deepObject(100_000))).toThrow(RangeError);
    expect(canonicalJson(deepObject(3_000))).toBe(`${'{"a":'.repeat(3_000)}"x"${'}'.repeat(3_000)}`);
    const levels = 500_000;
    const arrays = JSON.parse(`${'['.repeat(levels)}${']'.repeat(levels)}`);
    expect(keyedDigest('k', arrays)).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(canonicalJson(deepObject(200_000)).length).toBe(200_000 * 6 + 3);
  });

  it('refuses a cycle with a TypeError instead of walking forever', () => {
    const a: Record<string, unknown> = { x: 1 };
    a.self = a;
    expect(() => canonicalJson(a)).toThrow(TypeError);
    const list: unknown[] = [];
    list.push(list);
    expect(() => canonicalJson(list)).toThrow(TypeError);
    // A cycle far below the top, and one whose start is deep too.
    for (const [length, back] of [
      [1_000, 10],
      [5_000, 4_000],
    ] as const) {
      const chain: Array<Record<string, unknown>> = Array.from({ length }, () => ({}));
      chain.forEach((link, i) => {
        link.next = chain[i + 1] ?? chain[back];
      });
      expect(() => canonicalJson(chain[0])).toThrow(TypeError);
    }
    // A value seen twice (not on its own path) is no cycle.
    const shared = { k: 1 };
    expect(canonicalJson({ a: shared, b: [shared] })).toBe('{"a":{"k":1},"b":[{"k":1}]}');
  });
});

describe('jsonShape', () => {
  it('counts values and depth exactly up to the limits, and stops past them', () => {
    const limits = { elements: 5_000, depth: 32 };
    expect(jsonShape(undefined, limits)).toEqual({ elements: 0, depth: 0 });
    expect(jsonShape('x', limits)).toEqual({ elements: 0, depth: 0 });
    expect(jsonShape({}, limits)).toEqual({ elements: 0, depth: 1 });
    expect(jsonShape({ a: [1, 2, { b: null }] }, limits)).toEqual({ elements: 5, depth: 3 });
    const wide = jsonShape({ list: Array.from({ length: 60_000 }, () => 1) }, limits);
    expect(wide.elements).toBeGreaterThan(5_000);
    const levels = 200_000;
    const deep = jsonShape(JSON.parse(`${'['.repeat(levels)}${']'.repeat(levels)}`), limits);
    expect(deep.depth).toBe(33);
    expect(deep.elements).toBeLessThanOrEqual(33);
  });
});
