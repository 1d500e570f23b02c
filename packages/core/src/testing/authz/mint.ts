/**
 * Issuing an access token through the provider's own models (Grant, ResourceServer, AccessToken), so a
 * test gets the same signed JWT a browser sign-in would give, for any subject, without a browser.
 */
import type { default as Provider } from 'oidc-provider';

export type Claims = Record<string, unknown>;

export interface MintRequest {
  clientId: string;
  sub: string;
  scope: string;
  audience: string;
  /** Seconds. */
  ttl?: number;
  groups?: string[];
  /** Further claims (the exchange grant's `act`). */
  extra?: Claims;
  /** The grant type recorded in the token (`gty`). */
  gty?: string;
}

/** Saves a grant for `sub` at `audience` and returns a JWT access token from it. */
export async function mintAccessToken(
  provider: Provider,
  extras: WeakMap<object, Claims>,
  request: MintRequest,
): Promise<string> {
  const client = await provider.Client.find(request.clientId);
  if (!client) throw new Error(`authz: unknown client ${request.clientId}`);
  const ttl = request.ttl ?? 600;
  const grant = new provider.Grant({ accountId: request.sub, clientId: client.clientId });
  grant.addResourceScope(request.audience, request.scope);
  const grantId = await grant.save();
  const token = new provider.AccessToken({
    client,
    accountId: request.sub,
    grantId,
    gty: request.gty ?? 'urn:gatehouse:test',
    scope: request.scope,
    expiresIn: ttl,
    resourceServer: new provider.ResourceServer(request.audience, {
      scope: request.scope,
      accessTokenFormat: 'jwt',
      accessTokenTTL: ttl,
    }),
  });
  extras.set(token, { ...(request.groups ? { groups: request.groups } : {}), ...request.extra });
  return token.save();
}
