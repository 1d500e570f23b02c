/**
 * User tokens at the upstream: when the sandbox is told an authorization server's keys, a bearer JWT
 * is verified like a real API would (signature, issuer, audience = this API, a subject, an actor, and
 * the domain's acting client when named), and the routes see who the user is (`RouteContext.caller`)
 * to apply their own per-user rules. The domain's static token keeps working as the service identity.
 */
import { createRemoteJWKSet, type JWTPayload, jwtVerify } from 'jose';
import { errorBody } from './http.ts';
import { jsonOut, type Outgoing } from './respond.ts';
import type { Caller, Domain } from './types.ts';

export interface IdentityOptions {
  issuer: string;
  jwksUri: string;
  /** The audience tokens must carry (default the sandbox's own URL). */
  audience?: string;
  /** Per domain, the client id that must be the token's actor (`act.sub`); any actor when absent. */
  actors?: Partial<Record<Domain, string>>;
}

const JWT = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/;

const refuse = (why: string): Outgoing =>
  jsonOut(401, errorBody('unauthorized', why), { 'www-authenticate': 'Bearer error="invalid_token"' });

export class IdentityVerifier {
  private readonly options: IdentityOptions & { audience: string };
  private readonly keys: ReturnType<typeof createRemoteJWKSet>;

  constructor(options: IdentityOptions, ownUrl: string) {
    this.options = { ...options, audience: options.audience ?? ownUrl };
    this.keys = createRemoteJWKSet(new URL(options.jwksUri));
  }

  /** A bearer that looks like a JWT (the static tokens never do). */
  static bearerJwt(authorization: string | undefined): string | undefined {
    const match = /^Bearer\s+(\S+)\s*$/i.exec(authorization ?? '');
    return match && JWT.test(match[1]!) ? match[1] : undefined;
  }

  /** The verified caller, or the 401/403 answer. */
  async verify(token: string, domain: Domain): Promise<Caller | Outgoing> {
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(token, this.keys, {
        issuer: this.options.issuer,
        audience: this.options.audience,
        requiredClaims: ['sub', 'exp', 'jti'],
      }));
    } catch (error) {
      return refuse(`user token refused: ${(error as { code?: string }).code ?? 'invalid'}`);
    }
    const actor = (payload.act as { sub?: unknown } | undefined)?.sub;
    if (typeof actor !== 'string') return refuse('user token names no acting server (act.sub)');
    const wanted = this.options.actors?.[domain];
    if (wanted !== undefined && actor !== wanted)
      return jsonOut(403, errorBody('forbidden', `tokens for this API must be acted on by ${wanted}`));
    const groups = Array.isArray(payload.groups) ? payload.groups.filter((g) => typeof g === 'string') : [];
    return { sub: String(payload.sub), actor, groups, jti: String(payload.jti), aud: this.options.audience };
  }
}
