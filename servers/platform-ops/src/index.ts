import { defineServer } from '@gatehouse/core';
import pkg from '../package.json' with { type: 'json' };
import { ENV_PREFIX, env } from './config.ts';
import { type PlatformOps, SCOPES, TOOLSETS } from './context.ts';
import { prompts } from './prompts/index.ts';
import { resources } from './resources/index.ts';
import { tools } from './tools/index.ts';
import { PlatformOpsApi } from './upstream.ts';

/** The platform-ops server: config → capabilities → dependencies. The runner does the rest. */
const platformOps = defineServer<PlatformOps, typeof env>({
  name: 'platform-ops',
  title: 'Platform operations',
  version: pkg.version,
  bin: 'platform-ops-mcp',
  description: 'service health, deploys, runbooks and approved rollbacks',
  envPrefix: ENV_PREFIX,
  upstream: 'required',
  upstreamName: 'platform-ops API',
  env,
  scopes: {
    [SCOPES.read]: 'read health, deploys, runbooks and the service catalog (granted by default)',
    [SCOPES.write]: 'see and request side-effecting actions (rollbacks), each approved by a human',
    [SCOPES.prod]: 'additionally act on the production environment',
  },
  toolsets: TOOLSETS,
  instructions:
    "Platform operations for the company's services. Start with get_service_health or get_deploy_context for a named service; search_runbooks finds procedures. rollback_deploy changes production state and always asks a human to approve.",
  createDeps: ({ upstream }) => ({ api: new PlatformOpsApi(upstream!) }),
  tools,
  resources,
  prompts,
});

export default platformOps;
