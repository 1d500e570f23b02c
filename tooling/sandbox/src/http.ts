/** Small HTTP helpers shared by the route modules: replies, errors, validation and pagination. */

export interface Reply {
  status: number;
  body: unknown;
  headers?: Record<string, string>;
}

export type ErrorCode =
  | 'invalid_argument'
  | 'unauthorized'
  | 'forbidden'
  | 'not_found'
  | 'method_not_allowed'
  | 'conflict'
  | 'payload_too_large'
  | 'unprocessable'
  | 'internal';

/** Marks ApiErrors by a registry symbol, so they are recognised across copies of this module. */
const API_ERROR: unique symbol = Symbol.for('gatehouse.sandbox.ApiError');

export class ApiError extends Error {
  readonly status: number;
  readonly code: ErrorCode;
  readonly [API_ERROR] = true;

  constructor(status: number, code: ErrorCode, message: string) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

/**
 * True for an ApiError thrown by a route. A fragment loaded from the workspace imports the kit from
 * source while the built binary has its own bundled copy, so `instanceof` alone is not enough.
 */
export function isApiError(error: unknown): error is ApiError {
  return error instanceof Error && (error as unknown as Record<symbol, unknown>)[API_ERROR] === true;
}

export const ok = (body: unknown, status = 200): Reply => ({ status, body });
export const errorBody = (code: string, message: string) => ({ error: code, message });
export const badRequest = (message: string): ApiError => new ApiError(400, 'invalid_argument', message);
export const notFound = (message: string): ApiError => new ApiError(404, 'not_found', message);
export const unprocessable = (message: string): ApiError => new ApiError(422, 'unprocessable', message);

export interface Page {
  limit: number;
  offset: number;
}

export function encodeCursor(offset: number): string {
  return Buffer.from(`o:${offset}`, 'utf8').toString('base64url');
}

export function parsePage(query: URLSearchParams): Page {
  const rawLimit = query.get('limit');
  let limit = 20;
  if (rawLimit !== null) {
    if (!/^\d{1,3}$/.test(rawLimit)) throw badRequest('limit must be an integer between 1 and 100');
    limit = Number(rawLimit);
    if (limit < 1 || limit > 100) throw badRequest('limit must be an integer between 1 and 100');
  }
  const rawCursor = query.get('cursor');
  let offset = 0;
  if (rawCursor !== null && rawCursor !== '') {
    const decoded = /^[A-Za-z0-9_-]+$/.test(rawCursor)
      ? Buffer.from(rawCursor, 'base64url').toString('utf8')
      : '';
    const match = /^o:(\d{1,9})$/.exec(decoded);
    if (!match) throw badRequest('cursor is not valid');
    offset = Number(match[1]);
  }
  return { limit, offset };
}

export interface PageResult<T> {
  items: T[];
  nextCursor: string | null;
  total: number;
}

export function pageResult<T>(items: T[], page: Page, total: number): PageResult<T> {
  const end = page.offset + items.length;
  return { items, nextCursor: end < total && items.length > 0 ? encodeCursor(end) : null, total };
}

export function oneOf<T extends string>(
  query: URLSearchParams,
  name: string,
  allowed: readonly T[],
  required = false,
): T | undefined {
  const value = query.get(name);
  if (value === null || value === '') {
    if (required) throw badRequest(`${name} is required (one of ${allowed.join(', ')})`);
    return undefined;
  }
  if (!(allowed as readonly string[]).includes(value))
    throw badRequest(`${name} must be one of ${allowed.join(', ')}`);
  return value as T;
}

export function isoParam(query: URLSearchParams, name: string): string | undefined {
  const value = query.get(name);
  if (value === null || value === '') return undefined;
  const ms = Date.parse(value);
  if (!/^\d{4}-\d{2}-\d{2}/.test(value) || Number.isNaN(ms))
    throw badRequest(`${name} must be an ISO-8601 timestamp`);
  return new Date(ms).toISOString();
}

export function textParam(query: URLSearchParams, name: string, max = 200): string | undefined {
  const value = query.get(name);
  if (value === null) return undefined;
  const trimmed = value.trim();
  if (trimmed.length > max) throw badRequest(`${name} must be at most ${max} characters`);
  return trimmed === '' ? undefined : trimmed;
}

/** Reads a required string field from a JSON body object. */
export function bodyString(
  body: Record<string, unknown>,
  name: string,
  { min = 1, max = 2000, required = true } = {},
): string | undefined {
  const value = body[name];
  if (value === undefined || value === null) {
    if (required) throw badRequest(`${name} is required`);
    return undefined;
  }
  if (typeof value !== 'string') throw badRequest(`${name} must be a string`);
  if (value.trim().length < min || value.length > max)
    throw badRequest(`${name} must be between ${min} and ${max} characters`);
  return value;
}

export function asObject(body: unknown): Record<string, unknown> {
  if (body === null || typeof body !== 'object' || Array.isArray(body))
    throw badRequest('request body must be a JSON object');
  return body as Record<string, unknown>;
}

export { ftsQuery } from '@gatehouse/fts';

/** An ISO-8601 UTC timestamp for epoch milliseconds. */
export const iso = (ms: number): string => new Date(ms).toISOString();

/** Rounds a bm25 rank (lower is better, negative) into a positive score where higher is better. */
export function toScore(rank: number): number {
  return Math.round(-rank * 1000) / 1000;
}

export function stableStringify(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  if (Array.isArray(value)) return `[${value.map(stableStringify).join(',')}]`;
  const entries = Object.entries(value as Record<string, unknown>)
    .filter(([, v]) => v !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${stableStringify(v)}`).join(',')}}`;
}

export interface RouteContext {
  params: Record<string, string>;
  query: URLSearchParams;
  body: unknown;
  /** The user, when the request carried a verified user token; absent for the domain's service token. */
  caller?: { sub: string; actor: string; groups: string[] } | undefined;
}

export const forbidden = (message: string): ApiError => new ApiError(403, 'forbidden', message);

export interface Route {
  method: 'GET' | 'POST';
  /** e.g. `/platform/v1/services/:service/health` */
  pattern: string;
  /** Side-effecting POSTs require and honour an Idempotency-Key header. */
  idempotent?: boolean;
  handler: (ctx: RouteContext) => Reply;
}

export interface CompiledRoute extends Route {
  segments: string[];
}

export function compileRoutes(routes: Route[]): CompiledRoute[] {
  return routes.map((r) => ({ ...r, segments: r.pattern.split('/').slice(1) }));
}

/** Matches already percent-decoded path segments against compiled routes. */
export function matchRoute(
  routes: CompiledRoute[],
  method: string,
  segments: string[],
): { route: CompiledRoute; params: Record<string, string> } | { allowed: string[] } | undefined {
  const allowed: string[] = [];
  for (const route of routes) {
    if (route.segments.length !== segments.length) continue;
    const params: Record<string, string> = {};
    let matched = true;
    for (let i = 0; i < segments.length; i++) {
      const pattern = route.segments[i]!;
      const actual = segments[i]!;
      if (pattern.startsWith(':')) {
        if (actual === '') {
          matched = false;
          break;
        }
        params[pattern.slice(1)] = actual;
      } else if (pattern !== actual) {
        matched = false;
        break;
      }
    }
    if (!matched) continue;
    if (route.method === method) return { route, params };
    allowed.push(route.method);
  }
  return allowed.length > 0 ? { allowed } : undefined;
}

export function snippetOf(body: string, max = 200): string {
  const text = body
    .replace(/^#.*$/gm, '')
    .replace(/[`*>|#]+/g, ' ')
    .replace(/\s+/g, ' ')
    .trim();
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

/** Normalises an FTS snippet: drops markdown markers and collapses whitespace. */
export function cleanSnippet(snippet: string): string {
  return snippet
    .replace(/[`*>|#]+/g, ' ')
    .replace(/\s+/g, ' ')
    .trim();
}
