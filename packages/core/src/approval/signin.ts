/**
 * Approver sign-in for the approval page: the OpenID Connect authorization
 * code flow with PKCE (openid-client) at the server's configured issuer,
 * asking for an access token for this server (resource indicator) so the
 * approver's identity and scopes are checked exactly as a caller's are: by
 * the server's own token verification. The flow's secrets (verifier, state,
 * nonce) and then the approver's session live in sealed, short-lived cookies.
 */
import { randomBytes } from 'node:crypto';
import type * as Oidc from 'openid-client';
import type { Principal } from '../call/policy.ts';
import type { PageKeys } from './link.ts';

const SIGN_IN_COOKIE = 'gatehouse_approval_signin';
const SESSION_COOKIE = 'gatehouse_approver';
const SIGN_IN_SECONDS = 600;
const SESSION_SECONDS = 900;

interface SignInState {
  verifier: string;
  state: string;
  nonce: string;
  /** The signed page link to come back to (a path on this server). */
  back: string;
}

export interface ApproverSession {
  id: string;
  kind: Principal['kind'];
  scopes: string[];
  csrf: string;
}

function cookiesOf(header: string | undefined): Map<string, string> {
  const jar = new Map<string, string>();
  for (const part of (header ?? '').split(';')) {
    const at = part.indexOf('=');
    if (at > 0) jar.set(part.slice(0, at).trim(), part.slice(at + 1).trim());
  }
  return jar;
}

export class ApproverSignIn {
  private config: Promise<Oidc.Configuration> | undefined;
  private readonly options: {
    issuer: string;
    clientId: string;
    clientSecret: string | undefined;
    /** This server's public URL: the resource the approver's token is for. */
    resource: string;
    base: () => URL;
    scope: string;
    keys: PageKeys;
    verify: (accessToken: string) => Promise<Principal>;
  };

  constructor(options: ApproverSignIn['options']) {
    this.options = options;
  }

  private get secure(): boolean {
    return this.options.base().protocol === 'https:';
  }

  private cookie(name: string, value: string, maxAge: number): string {
    return `${name}=${value}; Path=/approvals; HttpOnly; SameSite=Lax; Max-Age=${maxAge}${this.secure ? '; Secure' : ''}`;
  }

  private get redirectUri(): string {
    return new URL('/approvals/callback', this.options.base()).href;
  }

  /** The issuer's metadata, discovered once (again after a failure). */
  private async configuration(): Promise<{ oidc: typeof Oidc; config: Oidc.Configuration }> {
    const oidc = await import('openid-client');
    const { issuer, clientId, clientSecret } = this.options;
    this.config ??= oidc
      .discovery(
        new URL(issuer),
        clientId,
        undefined,
        clientSecret ? oidc.ClientSecretBasic(clientSecret) : oidc.None(),
        issuer.startsWith('http:') ? { execute: [oidc.allowInsecureRequests], timeout: 10 } : { timeout: 10 },
      )
      .catch((error: unknown) => {
        this.config = undefined;
        throw error;
      });
    return { oidc, config: await this.config };
  }

  session(cookieHeader: string | undefined): ApproverSession | undefined {
    return this.options.keys.openValue<ApproverSession>(
      cookiesOf(cookieHeader).get(SESSION_COOKIE),
      'session',
    );
  }

  /** Sends the browser to the issuer; it comes back to /approvals/callback, then to `back`. */
  async begin(back: string): Promise<Response> {
    const { oidc, config } = await this.configuration();
    const state: SignInState = {
      verifier: oidc.randomPKCECodeVerifier(),
      state: oidc.randomState(),
      nonce: oidc.randomNonce(),
      back,
    };
    const url = oidc.buildAuthorizationUrl(config, {
      redirect_uri: this.redirectUri,
      scope: this.options.scope,
      response_type: 'code',
      code_challenge: await oidc.calculatePKCECodeChallenge(state.verifier),
      code_challenge_method: 'S256',
      state: state.state,
      nonce: state.nonce,
      resource: this.options.resource,
    });
    return new Response(null, {
      status: 303,
      headers: {
        location: url.href,
        'set-cookie': this.cookie(
          SIGN_IN_COOKIE,
          this.options.keys.sealValue(state, SIGN_IN_SECONDS, 'signin'),
          SIGN_IN_SECONDS,
        ),
      },
    });
  }

  /** Redeems the code; on success the session cookie is set and the browser goes back to its link. */
  async complete(
    requestUrl: URL,
    cookieHeader: string | undefined,
  ): Promise<{ ok: true; response: Response; principal: Principal } | { ok: false; reason: string }> {
    const state = this.options.keys.openValue<SignInState>(
      cookiesOf(cookieHeader).get(SIGN_IN_COOKIE),
      'signin',
    );
    if (!state) return { ok: false, reason: 'the sign-in expired or was not started here' };
    const { oidc, config } = await this.configuration();
    const current = new URL(`${this.redirectUri}${requestUrl.search}`);
    let principal: Principal;
    try {
      const tokens = await oidc.authorizationCodeGrant(
        config,
        current,
        {
          pkceCodeVerifier: state.verifier,
          expectedState: state.state,
          expectedNonce: state.nonce,
          idTokenExpected: true,
        },
        { resource: this.options.resource },
      );
      principal = await this.options.verify(tokens.access_token);
      if (tokens.claims()?.sub !== principal.id)
        return { ok: false, reason: 'the ID token and access token disagree' };
    } catch (error) {
      return { ok: false, reason: (error as Error).message.slice(0, 200) };
    }
    const session: ApproverSession = {
      id: principal.id,
      kind: principal.kind,
      scopes: [...principal.scopes],
      csrf: randomBytes(24).toString('base64url'),
    };
    const headers = new Headers({ location: state.back });
    headers.append('set-cookie', this.cookie(SIGN_IN_COOKIE, '', 0));
    headers.append(
      'set-cookie',
      this.cookie(
        SESSION_COOKIE,
        this.options.keys.sealValue(session, SESSION_SECONDS, 'session'),
        SESSION_SECONDS,
      ),
    );
    return { ok: true, principal, response: new Response(null, { status: 303, headers }) };
  }
}
