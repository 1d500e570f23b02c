/**
 * Signed, short-lived links to the approval page, and the sealed cookies the
 * page keeps (sign-in in progress, the signed-in approver). One key, derived
 * from the state key every replica shares, so any replica verifies them.
 */
import { createCipheriv, createDecipheriv, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

export class PageKeys {
  private readonly sign: Buffer;
  private readonly seal: Buffer;
  constructor(stateKey: string) {
    this.sign = createHmac('sha256', stateKey).update('gatehouse approval page: links').digest();
    this.seal = createHmac('sha256', stateKey).update('gatehouse approval page: cookies').digest();
  }

  mac(...parts: string[]): string {
    return createHmac('sha256', this.sign).update(parts.join('\n')).digest('base64url');
  }

  /** `?exp=<unix s>&sig=…` for approval `id`, valid until `expiresAt` (ms). */
  linkQuery(id: string, expiresAt: number): string {
    const exp = String(Math.floor(expiresAt / 1000));
    return `exp=${exp}&sig=${this.mac('link', id, exp)}`;
  }

  checkLink(
    id: string,
    exp: string | null,
    sig: string | null,
    now = Date.now(),
  ): 'ok' | 'invalid' | 'expired' {
    if (!exp || !sig || !/^\d{1,12}$/.test(exp)) return 'invalid';
    if (!equal(sig, this.mac('link', id, exp))) return 'invalid';
    return Number(exp) * 1000 > now ? 'ok' : 'expired';
  }

  /** AES-256-GCM sealed JSON with an expiry; `open` answers undefined for anything else. */
  sealValue(value: unknown, ttlSeconds: number, purpose: string): string {
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.seal, iv);
    cipher.setAAD(Buffer.from(purpose));
    const body = Buffer.concat([
      cipher.update(JSON.stringify({ v: value, exp: Date.now() + ttlSeconds * 1000 })),
      cipher.final(),
    ]);
    return Buffer.concat([iv, cipher.getAuthTag(), body]).toString('base64url');
  }

  openValue<T>(sealed: string | undefined, purpose: string): T | undefined {
    if (!sealed || sealed.length > 8192) return undefined;
    try {
      const raw = Buffer.from(sealed, 'base64url');
      const decipher = createDecipheriv('aes-256-gcm', this.seal, raw.subarray(0, 12));
      decipher.setAAD(Buffer.from(purpose));
      decipher.setAuthTag(raw.subarray(12, 28));
      const text = Buffer.concat([decipher.update(raw.subarray(28)), decipher.final()]).toString('utf8');
      const { v, exp } = JSON.parse(text) as { v: T; exp: number };
      return exp > Date.now() ? v : undefined;
    } catch {
      return undefined;
    }
  }
}

export function equal(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}
