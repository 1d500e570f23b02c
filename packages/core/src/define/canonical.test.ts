import { describe, expect, it } from 'vitest';
import { canonicalJson, keyedDigest } from './canonical.ts';

describe('canonical digests', () => {
  it('does not depend on key order', () => {
    expect(canonicalJson({ b: 1, a: { d: 2, c: 3 } })).toBe('{"a":{"c":3,"d":2},"b":1}');
    expect(keyedDigest('k', { x: 1, y: 2 })).toBe(keyedDigest('k', { y: 2, x: 1 }));
    expect(keyedDigest('k', { x: 1 })).not.toBe(keyedDigest('other', { x: 1 }));
  });
});
