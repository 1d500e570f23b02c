/**
 * Protocol-level fuzzing of a Gatehouse server's stdio channel through a raw
 * JSON-RPC peer (`spawnRaw` from '@gatehouse/core/testing'): malformed JSON,
 * wrong JSON-RPC shapes, unknown methods, extreme ids, a line over the 4 MiB
 * cap, messages split across writes, and requests before initialize. Every
 * check is an assertion (node:assert); the caller's test adds its own on the
 * returned summary and the audit file.
 */
// `@gatehouse/bench/protocol`, by job: the cases, the raw peer's helpers, the fuzz run, the vitest suite.
export * from './protocol-cases.ts';
export { barrier, expectRejected, type ProtocolPeer } from './protocol-peer.ts';
export { fuzzStdioProtocol, type ProtocolSummary } from './protocol-run.ts';
export { describeStdioProtocol, type StdioSuiteOptions } from './protocol-suite.ts';
