/**
 * @gatehouse/core — what every Gatehouse domain server shares. Servers import
 * from here only; nothing in a server touches the MCP SDK directly.
 */

export { verifyAuditFile } from './audit/log.ts';
export type { AuditRecord } from './audit/record.ts';
export { redactArgs } from './audit/redact.ts';
export { ApprovalState, renderApprovalMessage } from './call/approval.ts';
export {
  type Announcer,
  type AnyServerDefinition,
  defineServer,
  needsApproval,
  type ServerConfig,
  type ServerDefinition,
  toolsOf,
} from './call/definition.ts';
export { localOperator, type Principal } from './call/policy.ts';
export { ConfigError, envTable, loadConfig } from './config/env.ts';
export { canonicalJson, keyedDigest } from './define/canonical.ts';
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
} from './define/define.ts';
export {
  denied,
  ErrorCode,
  GatehouseError,
  invalidArgument,
  isGatehouseError,
  limitExceeded,
  notFound,
} from './define/errors.ts';
export {
  decodeCursor,
  encodeCursor,
  pageInput,
  sliceText,
  TRUNCATION_MARKER,
  TruncatedText,
} from './define/payload.ts';
export { maskPii, maskPiiDeep } from './define/pii.ts';
export { boundedText, identifier, jsonSchemaOf } from './define/schema.ts';
export { containsHidden, stripHidden } from './define/text.ts';
export { fenceUntrusted, UntrustedText, untrusted } from './define/untrusted.ts';
export { GENERATED_END, GENERATED_START, renderServerTables, withGeneratedTables } from './docs/readme.ts';
export { runServer, usage } from './runner.ts';
export type { Logger } from './telemetry/logger.ts';
