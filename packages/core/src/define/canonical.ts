import { createHmac, type KeyObject } from 'node:crypto';

/** JSON with object keys sorted, so equal values always serialise (and digest) the same way. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) => {
    if (v && typeof v === 'object' && !Array.isArray(v)) {
      return Object.fromEntries(
        Object.entries(v as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)),
      );
    }
    return v;
  });
}

/** Keyed digest: proves which arguments were used without storing them. */
export function keyedDigest(key: KeyObject | Uint8Array | string, value: unknown): string {
  return createHmac('sha256', key).update(canonicalJson(value)).digest('base64url');
}
