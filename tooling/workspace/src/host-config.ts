/**
 * The host configuration every server's README carries, written from one place (`pnpm generate`,
 * the release's version step, the demo, the pasted-config test): for Claude Desktop, Claude Code,
 * VS Code and Cursor, a block that starts the published package with npx
 * - at an exact version, from the registry named for the `@gatehouse` scope in the block itself
 *   (`--@gatehouse:registry=…`, which npx reads like an `.npmrc` line), so the public registry is
 *   never asked for a `@gatehouse` package (dependency confusion). An argument, not the variable
 *   `npm_config_@gatehouse:registry`: a shell between the host and npm (a version manager's `npx`
 *   shim, a `node` wrapper) drops variables whose names hold `@` or `:`;
 * - with an audit file under the user's state folder, which the server creates when missing;
 * - with `<your-…>` placeholders for what only the user knows, and each host's own variables
 *   (`${HOME}`, `${userHome}`, `${input:…}`) where the host expands them.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadDefinition, servers } from './servers.ts';

/** A host's own variable, `${name}`, as it appears in a block. */
const hostVariable = (name: string) => `\${${name}}`;

export type HostId = 'claude-desktop' | 'claude-code' | 'vscode' | 'cursor';

export interface Host {
  id: HostId;
  title: string;
  /** The file the block goes in. */
  file: string;
  /** What to know about it, one clause. */
  note: string;
  /** How the host writes the user's home folder in a value (Claude Desktop expands nothing). */
  home: string;
}

export const HOSTS: readonly Host[] = [
  {
    id: 'claude-desktop',
    title: 'Claude Desktop',
    file: 'claude_desktop_config.json',
    note: 'it expands no variables, so write your home folder out in full',
    home: '<your-home-folder>',
  },
  {
    id: 'claude-code',
    title: 'Claude Code',
    file: '.mcp.json',
    note: `at the project root; Claude Code expands \`${hostVariable('HOME')}\``,
    home: hostVariable('HOME'),
  },
  {
    id: 'vscode',
    title: 'VS Code',
    file: '.vscode/mcp.json',
    note: 'VS Code asks for the token once and keeps it in its secret storage',
    home: hostVariable('userHome'),
  },
  {
    id: 'cursor',
    title: 'Cursor',
    file: '.cursor/mcp.json',
    note: `or \`~/.cursor/mcp.json\` for every project; Cursor expands \`${hostVariable('userHome')}\``,
    home: hostVariable('userHome'),
  },
];

/** What a block needs to know about a server. */
export interface HostServer {
  /** Folder name (`platform-ops`): the entry's key. */
  name: string;
  /** The npm package (`@gatehouse/platform-ops`). */
  packageName: string;
  /** The exact version to pin. */
  version: string;
  /** Env prefix without the underscore (`PLATFORM_OPS`). */
  envPrefix: string;
}

/** The placeholder for the internal registry serving the `@gatehouse` scope. */
export const REGISTRY_PLACEHOLDER = '<your-registry-url>';
export const apiUrlPlaceholder = (name: string) => `<your-${name}-api-url>`;
export const apiTokenPlaceholder = (name: string) => `<your-${name}-api-token>`;
/** The npx argument naming the registry of the package's scope. */
export const scopeRegistryFlag = (packageName: string, registry: string) =>
  `--${packageName.split('/')[0]}:registry=${registry}`;

interface Entry {
  type?: 'stdio';
  command: string;
  args: string[];
  env: Record<string, string>;
}

export interface HostConfig {
  mcpServers?: Record<string, Entry>;
  servers?: Record<string, Entry>;
  inputs?: Array<{ id: string; type: 'promptString'; description: string; password: true }>;
}

const tokenInput = (name: string) => `${name}-api-token`;

function entry(host: Host, server: HostServer): Entry {
  const p = server.envPrefix;
  return {
    ...(host.id === 'claude-code' || host.id === 'vscode' ? { type: 'stdio' as const } : {}),
    command: 'npx',
    args: [
      '-y',
      scopeRegistryFlag(server.packageName, REGISTRY_PLACEHOLDER),
      `${server.packageName}@${server.version}`,
    ],
    env: {
      [`${p}_API_URL`]: apiUrlPlaceholder(server.name),
      [`${p}_API_TOKEN`]:
        host.id === 'vscode'
          ? hostVariable(`input:${tokenInput(server.name)}`)
          : apiTokenPlaceholder(server.name),
      [`${p}_AUDIT_FILE`]: `${host.home}/.local/state/gatehouse/${server.name}/audit.jsonl`,
    },
  };
}

/** One host's configuration for one or more servers (the demo prints all of them in one). */
export function hostConfig(host: Host, list: readonly HostServer[]): HostConfig {
  const entries = Object.fromEntries(list.map((server) => [server.name, entry(host, server)]));
  if (host.id !== 'vscode') return { mcpServers: entries };
  return {
    servers: entries,
    inputs: list.map((server) => ({
      id: tokenInput(server.name),
      type: 'promptString',
      description: `${server.name} API token`,
      password: true,
    })),
  };
}

export const HOST_CONFIG_START = '<!-- generated:host-config:start (pnpm generate) -->';
export const HOST_CONFIG_END = '<!-- generated:host-config:end -->';
const hostMarker = (id: HostId) => `<!-- host: ${id} -->`;

/** Pretty JSON with arrays of strings on one line (`"args": ["-y", "@gatehouse/docs@0.1.0"]`). */
export function formatJson(value: unknown): string {
  return JSON.stringify(value, null, 2).replace(
    /\[\n\s+("[^"\n]*"(?:,\n\s+"[^"\n]*")*)\n\s+\]/g,
    (_, inner: string) => `[${inner.replace(/,\n\s+/g, ', ')}]`,
  );
}

/** The README section: what to replace, then one block per host. */
export function renderHostConfig(server: HostServer): string {
  const lines = [
    `Replace each \`<your-…>\` placeholder: \`${REGISTRY_PLACEHOLDER}\` is the internal npm registry that serves`,
    `the \`@gatehouse\` scope (see [Installing](../../README.md#installing-from-your-registry)), then the ${server.name} API`,
    "and this server's own token for it. The version is pinned and the scope's registry is named in the",
    'block (`--@gatehouse:registry=…`), so `npx` never asks the public registry for a `@gatehouse`',
    'package. The audit folder is created at first start; if your registry needs a login, put its token',
    'in `~/.npmrc`, not here.',
  ];
  for (const host of HOSTS) {
    lines.push(
      '',
      `${host.title} (\`${host.file}\`; ${host.note}):`,
      '',
      hostMarker(host.id),
      '```json',
      formatJson(hostConfig(host, [server])),
      '```',
    );
  }
  return lines.join('\n');
}

/** Replaces the generated host-configuration section of a README; throws when the markers are missing. */
export function withHostConfig(readme: string, server: HostServer): string {
  const start = readme.indexOf(HOST_CONFIG_START);
  const end = readme.indexOf(HOST_CONFIG_END);
  if (start === -1 || end === -1 || end < start)
    throw new Error('README lacks the generated host-config markers');
  return `${readme.slice(0, start + HOST_CONFIG_START.length)}\n${renderHostConfig(server)}\n${readme.slice(end)}`;
}

/** The blocks as a README holds them (what a user copies), by host. */
export function readmeHostConfigs(readme: string): Map<HostId, HostConfig> {
  const blocks = new Map<HostId, HostConfig>();
  const section = readme.slice(readme.indexOf(HOST_CONFIG_START), readme.indexOf(HOST_CONFIG_END));
  for (const match of section.matchAll(/<!-- host: ([a-z-]+) -->\n```json\n([\s\S]*?)\n```/g))
    blocks.set(match[1] as HostId, JSON.parse(match[2]!) as HostConfig);
  return blocks;
}

/**
 * Rewrites the host-configuration section of every server README in the workspace (at the version in
 * its package.json) and returns the READMEs that changed: `pnpm generate`, and the release after it
 * set new versions.
 */
export async function writeHostConfigs(root: string): Promise<string[]> {
  const changed: string[] = [];
  for (const server of servers(root)) {
    const readme = join(server.dir, 'README.md');
    if (!existsSync(readme)) continue;
    const definition = await loadDefinition(server);
    const before = readFileSync(readme, 'utf8');
    const after = withHostConfig(before, {
      name: server.name,
      packageName: server.json.name,
      version: server.json.version,
      envPrefix: definition.envPrefix,
    });
    if (after !== before) {
      writeFileSync(readme, after);
      changed.push(readme);
    }
  }
  return changed;
}
