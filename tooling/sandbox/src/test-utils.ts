import type { Sandbox } from './types.ts';

/** Response bodies in tests are checked structurally, so they are loosely typed on purpose. */
// biome-ignore lint/suspicious/noExplicitAny: see above
export type Loose = any;

export interface ApiResponse<T = Loose> {
  status: number;
  headers: Headers;
  text: string;
  json: T;
}

export interface CallOptions {
  token?: string | null;
  method?: string;
  body?: unknown;
  headers?: Record<string, string>;
  signal?: AbortSignal;
}

/** Calls the sandbox over real HTTP; `token` defaults to none. */
export async function call<T = Loose>(
  sandbox: Sandbox,
  path: string,
  options: CallOptions = {},
): Promise<ApiResponse<T>> {
  const headers: Record<string, string> = { ...options.headers };
  if (options.token) headers.authorization = `Bearer ${options.token}`;
  if (options.body !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(`${sandbox.url}${path}`, {
    method: options.method ?? (options.body !== undefined ? 'POST' : 'GET'),
    headers,
    ...(options.body !== undefined
      ? { body: typeof options.body === 'string' ? options.body : JSON.stringify(options.body) }
      : {}),
    ...(options.signal ? { signal: options.signal } : {}),
  });
  const text = await res.text();
  let json: Loose;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: res.status, headers: res.headers, text, json };
}

/** Follows nextCursor until the end and returns every item plus the number of pages. */
export async function collect<T = Loose>(
  sandbox: Sandbox,
  path: string,
  token: string,
): Promise<{ items: T[]; pages: number; total: number }> {
  const items: T[] = [];
  let cursor: string | null = null;
  let pages = 0;
  let total = 0;
  do {
    const sep = path.includes('?') ? '&' : '?';
    const res: ApiResponse = await call(
      sandbox,
      `${path}${cursor ? `${sep}cursor=${encodeURIComponent(cursor)}` : ''}`,
      { token },
    );
    if (res.status !== 200) throw new Error(`${path} -> ${res.status} ${res.text}`);
    items.push(...res.json.items);
    total = res.json.total;
    cursor = res.json.nextCursor;
    pages += 1;
    if (pages > 1000) throw new Error('pagination did not terminate');
  } while (cursor);
  return { items, pages, total };
}

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
