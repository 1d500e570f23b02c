/**
 * `@gatehouse/sandbox/kit`: everything a server's sandbox fragment (`servers/<name>/sandbox/index.ts`)
 * imports — the fragment type and `defineSandboxDomain`, the route and reply helpers, the store type,
 * the deterministic PRNG and the service catalogue the domains share. Nothing here starts a server.
 */

export {
  buildServices,
  ENVIRONMENTS,
  type Environment,
  type ServiceRecord,
  TEAMS,
  type Team,
  type Tier,
} from './data/catalog.ts';
export type { Row, Store } from './db.ts';
export { type ContractFragment, defineSandboxDomain, type SandboxDomain } from './domain.ts';
export {
  ApiError,
  asObject,
  badRequest,
  bodyString,
  cleanSnippet,
  type ErrorCode,
  encodeCursor,
  forbidden,
  ftsQuery,
  iso,
  isoParam,
  notFound,
  ok,
  oneOf,
  type Page,
  type PageResult,
  pageResult,
  parsePage,
  type Reply,
  type Route,
  type RouteContext,
  snippetOf,
  textParam,
  toScore,
  unprocessable,
} from './http.ts';
export { createRng, hashSeed, type Rng } from './prng.ts';
