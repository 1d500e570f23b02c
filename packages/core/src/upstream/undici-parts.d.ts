/**
 * The two parts of undici the upstream client loads (upstream/faults.ts): its
 * connection pool and its `request`, typed from undici's own declarations.
 * Loading only these, not undici's index (fetch, WebSocket, cache, mocks…),
 * halves the import: ~17 MB of RSS on the first call instead of ~31 MB, about
 * what Node's own fetch cost before. undici is pinned to an exact version in
 * the catalog, so these paths move only when the pin does, and every upstream
 * test goes through them.
 */
declare module 'undici/lib/dispatcher/agent.js' {
  import type { Agent } from 'undici';

  const agent: typeof Agent;
  export default agent;
}
/** `request` as every dispatcher carries it: called on the pool, with the origin and path apart. */
declare module 'undici/lib/api/api-request.js' {
  import type { Dispatcher } from 'undici';

  const request: (this: Dispatcher, options: Dispatcher.RequestOptions) => Promise<Dispatcher.ResponseData>;
  export default request;
}
