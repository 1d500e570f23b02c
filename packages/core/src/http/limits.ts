/**
 * Per-principal admission: a token bucket (requests per minute) and a cap on
 * concurrent requests. Both are in-memory and bounded in size; behind a load
 * balancer each replica enforces its own share.
 */
export class RateLimiter {
  private readonly buckets = new Map<string, { tokens: number; at: number }>();
  private readonly perMs: number;
  private readonly perMinute: number;
  private readonly maxKeys: number;

  constructor(perMinute: number, maxKeys = 10_000) {
    this.perMinute = perMinute;
    this.maxKeys = maxKeys;
    this.perMs = perMinute / 60_000;
  }

  /** Takes one token; returns 0 when admitted, otherwise seconds to wait. */
  take(key: string, now = Date.now()): number {
    let bucket = this.buckets.get(key);
    if (!bucket) {
      if (this.buckets.size >= this.maxKeys) this.prune(now);
      bucket = { tokens: this.perMinute, at: now };
      this.buckets.set(key, bucket);
    }
    bucket.tokens = Math.min(this.perMinute, bucket.tokens + (now - bucket.at) * this.perMs);
    bucket.at = now;
    if (bucket.tokens >= 1) {
      bucket.tokens -= 1;
      return 0;
    }
    return Math.max(1, Math.ceil((1 - bucket.tokens) / this.perMs / 1000));
  }

  private prune(now: number): void {
    for (const [key, bucket] of this.buckets)
      if (bucket.tokens + (now - bucket.at) * this.perMs >= this.perMinute) this.buckets.delete(key);
    // Still full of active principals: forget the oldest rather than grow without bound.
    while (this.buckets.size >= this.maxKeys) {
      const oldest = this.buckets.keys().next().value;
      if (oldest === undefined) break;
      this.buckets.delete(oldest);
    }
  }
}

export class ConcurrencyLimiter {
  private readonly active = new Map<string, number>();

  private readonly max: number;

  constructor(max: number) {
    this.max = max;
  }

  /** Returns a release function, or undefined when the principal is at its limit. */
  acquire(key: string): (() => void) | undefined {
    const current = this.active.get(key) ?? 0;
    if (current >= this.max) return undefined;
    this.active.set(key, current + 1);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const now = (this.active.get(key) ?? 1) - 1;
      if (now <= 0) this.active.delete(key);
      else this.active.set(key, now);
    };
  }
}
