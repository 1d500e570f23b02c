/**
 * What approval-page tests share: the loopback authorization server set up
 * for a server's approval page (its client, the server's scopes plus
 * `<server>:approve` and `<server>:pii`), and a cookie-keeping HTTP client that
 * walks the page and the provider's development sign-in as a browser would
 * (redirects by hand, one cookie jar per origin, the Origin header on forms).
 */
import { PageKeys } from '../approval/link.ts';
import { type AuthorizationServer, startAuthorizationServer } from './authz/server.ts';

export const APPROVAL_CLIENT = { clientId: 'approval-page', clientSecret: 'approval-page-secret-0123456789' };

/**
 * The authorization server for `server`'s approval page at `origin`. `withhold` names scopes an account
 * is never granted (the provider's policy for it: it signs in, without those scopes).
 */
export async function startApprovalIssuer(options: {
  server: string;
  scopes: string[];
  origin: string;
  port?: number;
  withhold?: Record<string, string[]>;
}): Promise<AuthorizationServer> {
  const as = await startAuthorizationServer({
    scopes: [...options.scopes, `${options.server}:approve`, `${options.server}:pii`],
    clients: [{ ...APPROVAL_CLIENT, redirectUris: [`${options.origin}/approvals/callback`] }],
    ...(options.port ? { port: options.port } : {}),
  });
  const withhold = options.withhold ?? {};
  const grant = as.provider.Grant.prototype as unknown as {
    accountId?: string;
    addResourceScope(indicator: string, scope: string): void;
    rejectResourceScope(indicator: string, scope: string): void;
  };
  const add = grant.addResourceScope;
  grant.addResourceScope = function (this: typeof grant, indicator: string, scope: string) {
    const withheld = withhold[this.accountId ?? ''] ?? [];
    const requested = scope.split(' ');
    const refused = requested.filter((s) => withheld.includes(s));
    // Recorded as rejected, so the provider does not ask for them again.
    if (refused.length) this.rejectResourceScope(indicator, refused.join(' '));
    return add.call(this, indicator, requested.filter((s) => !withheld.includes(s)).join(' '));
  };
  return as;
}

export interface Page {
  status: number;
  url: string;
  text: string;
  headers: Headers;
}

/** A browser without a browser: cookies per origin, redirects followed by hand, forms posted with Origin. */
export class FormClient {
  private readonly jars = new Map<string, Map<string, string>>();

  private jar(url: string): Map<string, string> {
    const origin = new URL(url).origin;
    const jar = this.jars.get(origin) ?? new Map<string, string>();
    this.jars.set(origin, jar);
    return jar;
  }

  async request(
    url: string,
    init: { method?: string; form?: Record<string, string>; origin?: string } = {},
  ): Promise<Page> {
    let current = url;
    let method = init.method ?? (init.form ? 'POST' : 'GET');
    let body = init.form ? new URLSearchParams(init.form).toString() : undefined;
    for (let hop = 0; hop < 15; hop += 1) {
      const jar = this.jar(current);
      const headers: Record<string, string> = {};
      if (jar.size) headers.cookie = [...jar].map(([k, v]) => `${k}=${v}`).join('; ');
      if (body !== undefined) {
        headers['content-type'] = 'application/x-www-form-urlencoded';
        headers.origin = init.origin ?? new URL(current).origin;
      }
      const response = await fetch(current, { method, headers, body, redirect: 'manual' });
      for (const line of response.headers.getSetCookie()) {
        const [pair = ''] = line.split(';');
        const at = pair.indexOf('=');
        const value = pair.slice(at + 1);
        if (/max-age=0/i.test(line) || value === '') jar.delete(pair.slice(0, at));
        else jar.set(pair.slice(0, at), value);
      }
      const location = response.headers.get('location');
      if (!location || response.status < 300 || response.status >= 400)
        return {
          status: response.status,
          url: current,
          text: await response.text(),
          headers: response.headers,
        };
      await response.arrayBuffer();
      current = new URL(location, current).href;
      method = 'GET';
      body = undefined;
    }
    throw new Error('too many redirects');
  }

  /** Opens `link`; where it leads to the provider's sign-in, signs in as `login` and comes back. */
  async open(link: string, issuer: string, login: string): Promise<Page> {
    let page = await this.request(link);
    for (let round = 0; round < 3 && page.url.startsWith(issuer); round += 1) {
      const prompt = page.text.includes('name="login"') ? 'login' : 'consent';
      page = await this.request(page.url, { form: { prompt, login, password: 'x' } });
    }
    return page;
  }
}

/** The hidden CSRF token of the approval form. */
export const csrfOf = (html: string): string => /name="csrf" value="([^"]+)"/.exec(html)?.[1] ?? '';

/** A link to approval `id` signed with `stateKey` as the server signs it, valid until `expiresAt` (ms). */
export function approvalLink(stateKey: string, origin: string, id: string, expiresAt: number): string {
  return `${origin}/approvals/${id}?${new PageKeys(stateKey).linkQuery(id, expiresAt)}`;
}
