export { type SandboxControl, sandboxControl } from './control.ts';
export { discoverDomains, fragmentFiles, workspaceRoot } from './discover.ts';
export { type ContractFragment, defineSandboxDomain, type SandboxDomain, tokenVariable } from './domain.ts';
export { type FaultBody, type FaultRule, GZIP_BOMB_INFLATED_BYTES } from './faults.ts';
export { type ServerHarness, startServerHarness } from './harness.ts';
export type { IdentityOptions } from './identity.ts';
export { resolveDomains, startSandbox } from './server.ts';
export type { Caller, Domain, RequestRecord, Sandbox, SandboxOptions, SandboxTokens } from './types.ts';
