/**
 * The authorization-code flow with PKCE driven over plain HTTP, as a browser would: authorization
 * request, the provider's development login and consent pages (any login is accepted as the subject),
 * the redirect with the code, and the code redeemed at the token endpoint.
 */
import { createHash, randomBytes } from 'node:crypto';

export interface SignInOptions {
  issuer: string;
  login: string;
  clientId: string;
  clientSecret?: string;
  redirectUri?: string;
  scope?: string;
  /** A resource indicator: the access token is then a JWT for that audience. */
  resource?: string;
}

export interface SignInResult {
  accessToken: string;
  idToken?: string;
  refreshToken?: string;
  /** The `code` and `state` the redirect carried. */
  code: string;
}

const base64url = (buffer: Buffer) => buffer.toString('base64url');

/** Follows redirects by hand within the issuer, carrying cookies, until one leaves it. */
async function follow(start: string, issuer: string, jar: Map<string, string>, init?: RequestInit) {
  let url = start;
  let request: RequestInit | undefined = init;
  for (let hop = 0; hop < 10; hop += 1) {
    const cookie = [...jar].map(([k, v]) => `${k}=${v}`).join('; ');
    const response = await fetch(url, {
      ...request,
      redirect: 'manual',
      headers: { ...(request?.headers as Record<string, string>), cookie },
    });
    for (const line of response.headers.getSetCookie()) {
      const [pair = ''] = line.split(';');
      const at = pair.indexOf('=');
      jar.set(pair.slice(0, at), pair.slice(at + 1));
    }
    const location = response.headers.get('location');
    if (!location) return { url, response };
    url = new URL(location, url).href;
    if (!url.startsWith(issuer)) return { url, response };
    request = undefined;
  }
  throw new Error('sign-in: too many redirects');
}

async function submit(url: string, issuer: string, jar: Map<string, string>, form: Record<string, string>) {
  return follow(url, issuer, jar, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams(form).toString(),
  });
}

export async function signInWithCode(options: SignInOptions): Promise<SignInResult> {
  const verifier = base64url(randomBytes(32));
  const state = base64url(randomBytes(16));
  const redirectUri = options.redirectUri ?? 'http://127.0.0.1/callback';
  const authorize = new URL('/auth', options.issuer);
  authorize.search = new URLSearchParams({
    client_id: options.clientId,
    response_type: 'code',
    redirect_uri: redirectUri,
    scope: options.scope ?? 'openid',
    state,
    code_challenge: base64url(createHash('sha256').update(verifier).digest()),
    code_challenge_method: 'S256',
    ...(options.resource ? { resource: options.resource } : {}),
  }).toString();
  const jar = new Map<string, string>();
  let step = await follow(authorize.href, options.issuer, jar);
  for (let round = 0; round < 3 && step.url.startsWith(options.issuer); round += 1) {
    const page = await step.response.text();
    const prompt = page.includes('name="login"') ? 'login' : 'consent';
    step = await submit(step.url, options.issuer, jar, { prompt, login: options.login, password: 'x' });
  }
  const back = new URL(step.url);
  const code = back.searchParams.get('code');
  if (!code || back.searchParams.get('state') !== state)
    throw new Error(`sign-in: no code in the redirect (${back.searchParams.get('error') ?? back.href})`);
  const headers: Record<string, string> = { 'content-type': 'application/x-www-form-urlencoded' };
  if (options.clientSecret)
    headers.authorization = `Basic ${Buffer.from(`${options.clientId}:${options.clientSecret}`).toString('base64')}`;
  const response = await fetch(new URL('/token', options.issuer), {
    method: 'POST',
    headers,
    body: new URLSearchParams({
      grant_type: 'authorization_code',
      code,
      redirect_uri: redirectUri,
      code_verifier: verifier,
      ...(options.clientSecret ? {} : { client_id: options.clientId }),
      ...(options.resource ? { resource: options.resource } : {}),
    }).toString(),
  });
  const body = (await response.json()) as Record<string, string>;
  if (!response.ok) throw new Error(`sign-in: token endpoint said ${body.error}: ${body.error_description}`);
  return {
    accessToken: body.access_token ?? '',
    code,
    ...(body.id_token ? { idToken: body.id_token } : {}),
    ...(body.refresh_token ? { refreshToken: body.refresh_token } : {}),
  };
}
