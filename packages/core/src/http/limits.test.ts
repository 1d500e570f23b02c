import { describe, expect, it } from 'vitest';
import { ConcurrencyLimiter, jsonTooDeep, RateLimiter } from './index.ts';

describe('admission', () => {
  it('refills the per-principal bucket and reports Retry-After in seconds', () => {
    const rate = new RateLimiter(2);
    expect([rate.take('a', 0), rate.take('a', 0)]).toEqual([0, 0]);
    expect(rate.take('a', 0)).toBe(30);
    expect(rate.take('b', 0)).toBe(0);
    expect(rate.take('a', 30_000)).toBe(0);
  });

  it('caps concurrency per principal and releases once', () => {
    const limit = new ConcurrencyLimiter(1);
    const release = limit.acquire('a');
    expect(release).toBeTypeOf('function');
    expect(limit.acquire('a')).toBeUndefined();
    expect(limit.acquire('b')).toBeTypeOf('function');
    release?.();
    release?.();
    expect(limit.acquire('a')).toBeTypeOf('function');
    expect(limit.acquire('a')).toBeUndefined();
  });

  it('measures JSON depth linearly, ignoring brackets inside strings', () => {
    expect(jsonTooDeep('{"a":[1,2,{"b":"[[[[[["}]}', 3)).toBe(false);
    expect(jsonTooDeep('[[[[1]]]]', 3)).toBe(true);
    expect(jsonTooDeep(`{"s":"\\"[[[["}`, 1)).toBe(false);
  });
});
