/**
 * The servers the end-to-end tests run, found in the workspace (servers/<name>/package.json with a
 * `bin`), each with what its own folder says about it: the definition (env prefix, scopes), the
 * smoke inputs (test/e2e.json), its committed surface, and its sandbox domain.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { discoverDomains, type ServerHarness, startServerHarness } from '@gatehouse/sandbox';
import {
  loadDefinition,
  type ServerDefinitionShape,
  type ServerPackage,
  type SmokeInputs,
  servers,
  smokeInputs,
  type ToolCall,
} from '@gatehouse/workspace';

export { repoRoot } from '@gatehouse/workspace';

export interface E2eServer extends ServerPackage {
  definition: ServerDefinitionShape;
  /** `PLATFORM_OPS`, from the definition. */
  prefix: string;
  inputs: SmokeInputs;
  /** A recognisable upstream token: it must never show up where a client or log reader could see it. */
  canary: string;
  /** A cheap read call that succeeds (test/e2e.json, else a read tool that needs no arguments). */
  call: ToolCall | undefined;
  /** A call whose upstream request can be slowed, and the sandbox path prefix it hits. */
  slow: { call: ToolCall; path: string } | undefined;
}

interface SurfaceTool {
  name: string;
  annotations?: { readOnlyHint?: boolean };
  inputSchema?: { required?: string[] };
}

/** The first read tool of the committed surface that needs no arguments. */
function fallbackCall(server: ServerPackage): ToolCall | undefined {
  const file = join(server.dir, 'surface.json');
  if (!existsSync(file)) return undefined;
  const { tools } = JSON.parse(readFileSync(file, 'utf8')) as { tools: SurfaceTool[] };
  const tool = tools.find((t) => t.annotations?.readOnlyHint && (t.inputSchema?.required ?? []).length === 0);
  return tool ? { name: tool.name, arguments: {} } : undefined;
}

const domains = await discoverDomains();

async function describeServer(server: ServerPackage): Promise<E2eServer> {
  const definition = await loadDefinition(server);
  const inputs = smokeInputs(server);
  const call = inputs.call ?? fallbackCall(server);
  const domain = domains.find((d) => d.name === server.name);
  const slow = inputs.slow ?? (call && domain ? { call, path: domain.prefix } : undefined);
  return {
    ...server,
    definition,
    prefix: definition.envPrefix,
    inputs,
    canary: `sbx_${server.name.replace(/\W/g, '_')}_CANARY_${randomBytes(8).toString('hex')}`,
    call,
    slow,
  };
}

/** Every server of the workspace, in folder-name order. */
export const SERVERS: readonly E2eServer[] = await Promise.all(servers().map(describeServer));

export type E2eHarness = Omit<ServerHarness, 'env'> & {
  /** A working server's environment: the sandbox under its prefix, its own audit file, test/e2e.json's env. */
  env(extra?: Record<string, string>): Record<string, string>;
};

/** A sandbox for one server, its token the server's canary. */
export async function startHarness(server: E2eServer, logLevel?: string): Promise<E2eHarness> {
  const base = await startServerHarness({
    domain: server.name,
    prefix: server.prefix,
    token: server.canary,
    ...(logLevel ? { logLevel } : {}),
  });
  return { ...base, env: (extra = {}) => base.env({ ...server.inputs.env, ...extra }) };
}
