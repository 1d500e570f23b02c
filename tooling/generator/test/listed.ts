/**
 * `node tooling/generator/test/listed.ts <name>`: what the workspace's own tooling finds out about one
 * server, by calling the discovery functions the demo, the sandbox, the end-to-end suites (smoke,
 * conformance, deploy), the bundles and the release use — nothing is run against the server. Prints
 * one JSON object. The generator's end-to-end test runs it inside its scratch copy, so every module
 * here is that copy's own (relative imports), and it finds the copy's servers.
 */
import { join } from 'node:path';
import { render } from '../../../e2e/src/kustomize.ts';
import { SERVERS } from '../../../e2e/src/servers.ts';
import { manifestFor, manifestProblems } from '../../release/src/mcpb.ts';
import { checkServerJson } from '../../release/src/server-json.ts';
import { sandboxContract } from '../../sandbox/src/contract.ts';
import { discoverDomains } from '../../sandbox/src/index.ts';
import { publishableServers, servers, smokeInputs } from '../../workspace/src/index.ts';

const name = process.argv[2];
if (!name) throw new Error('usage: listed.ts <server name>');

const all = servers();
const server = all.find((s) => s.name === name);
const e2e = SERVERS.find((s) => s.name === name);
const contract = await sandboxContract();

const report = {
  /** @gatehouse/workspace: what the demo, the bench and every end-to-end suite start from. */
  workspace: all.map((s) => s.name),
  /** What the release, server.json and the bundles cover. */
  publishable: publishableServers().map((s) => s.name),
  /** The sandbox's fragments, found in the workspace (the demo's and every test's upstream). */
  sandbox: (await discoverDomains()).map((d) => d.name),
  /** The merged sandbox contract's paths under the server's prefix. */
  contractPaths: Object.keys(contract.paths).filter((p) => p.startsWith(`/${name}/`)),
  /** e2e/src/servers.ts: the servers the smoke, hostile-stdio, conformance and deploy suites iterate. */
  e2e: SERVERS.map((s) => s.name),
  /** The smoke call the demo's generic steps and the e2e smoke tests make. */
  smokeCall: server ? (smokeInputs(server).call ?? null) : null,
  e2eCall: e2e?.call ?? null,
  /** The kinds its deploy overlay renders to (servers/<name>/deploy over deploy/k8s/base). */
  deployKinds: server
    ? render(join(server.dir, 'deploy'))
        // kustomize names a generated ConfigMap with a content hash: the kind and base name are what count.
        .map(
          (d) =>
            `${d.kind}/${d.kind === 'ConfigMap' ? d.metadata.name.replace(/-[a-z0-9]{10}$/, '') : d.metadata.name}`,
        )
        .sort()
    : [],
  /** server.json as the release checks it, and the MCP bundle manifest the bundles would ship. */
  serverJsonProblems: server ? checkServerJson(server) : ['not found'],
  bundleProblems: server ? manifestProblems(manifestFor(server)) : ['not found'],
};
process.stdout.write(`${JSON.stringify(report)}\n`);
