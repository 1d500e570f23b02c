export {
  ACCEPTED_ALGORITHMS,
  AuthError,
  Authenticator,
  discoverAuthorizationServer,
  JwksCache,
} from './auth.ts';
export {
  type ConnectionGuard,
  createHttpServer,
  type Refusal as ConnectionRefusal,
  SOCKET_DEFAULTS,
  type SocketLimits,
} from './connections.ts';
export { ConcurrencyLimiter, RateLimiter } from './limits.ts';
export { HttpMetrics } from './metrics.ts';
export { createHttpApp, type HttpApp, jsonTooDeep, serveHttp } from './serve.ts';
export { SessionStore } from './sessions.ts';
export {
  type HttpSettings,
  httpEnvSchema,
  httpEnvTable,
  LOOPBACK_HOSTS,
  loadApiKeys,
  loadHttpSettings,
  startupProblem,
} from './settings.ts';
