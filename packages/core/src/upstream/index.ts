/**
 * @gatehouse/core/upstream — the client a server's upstream.ts uses: one
 * credential, paths built segment by segment, deadlines, retries, a breaker,
 * bounded bodies, typed errors. Tools reach it only through their deps.
 */
export { Upstream, type UpstreamCallOptions } from './client.ts';
export {
  bindInboundToken,
  type IdentitySettings,
  UpstreamIdentity,
  type UpstreamIdentityFacts,
} from './identity.ts';
export { upstreamPage } from './page.ts';
export { apiPath, type Query } from './path.ts';
