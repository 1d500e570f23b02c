export { type SandboxControl, sandboxControl } from './control.ts';
export { type FaultBody, type FaultRule, GZIP_BOMB_INFLATED_BYTES } from './faults.ts';
export { type ServerHarness, startServerHarness } from './harness.ts';
export type { Domain, RequestRecord, Sandbox, SandboxOptions, SandboxTokens } from './server.ts';
export { startSandbox } from './server.ts';
