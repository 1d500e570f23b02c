/**
 * @gatehouse/core — what every Gatehouse domain server shares. Servers import
 * from here only; nothing in a server touches the MCP SDK directly.
 */
export { ApprovalState, renderApprovalMessage } from './approval.ts';
export { type AuditRecord, redactArgs, verifyAuditFile } from './audit.ts';
export { canonicalJson, keyedDigest } from './canonical.ts';
export { ConfigError, envTable, loadConfig } from './config.ts';
export {
  type AnyPrompt,
  type AnyResource,
  type AnyTool,
  annotationsFor,
  definitionsFor,
  type Effect,
  type PromptMessage,
  type ReadContext,
  type ResourceContent,
  type ToolContext,
  type ToolDefinition,
} from './define.ts';
export { GENERATED_END, GENERATED_START, renderServerTables, withGeneratedTables } from './docs.ts';
export {
  denied,
  ErrorCode,
  GatehouseError,
  invalidArgument,
  isGatehouseError,
  limitExceeded,
  notFound,
} from './errors.ts';
export type { Logger } from './logger.ts';
export {
  decodeCursor,
  encodeCursor,
  pageInput,
  sliceText,
  TRUNCATION_MARKER,
  TruncatedText,
} from './payload.ts';
export { maskPii, maskPiiDeep } from './pii.ts';
export { localOperator, type Principal } from './policy.ts';
export { runServer, usage } from './runner.ts';
export { boundedText, identifier, jsonSchemaOf } from './schema.ts';
export {
  type Announcer,
  type AnyServerDefinition,
  defineServer,
  needsApproval,
  type ServerConfig,
  type ServerDefinition,
  toolsOf,
} from './server.ts';
export { containsHidden, stripHidden } from './text.ts';
export { fenceUntrusted, UntrustedText, untrusted } from './untrusted.ts';
export { apiPath, type Query, Upstream, type UpstreamCallOptions } from './upstream.ts';
