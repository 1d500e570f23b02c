/**
 * The MCP Bundles, as a desktop host sees them: built from the real build for every published server
 * found in the workspace, validated with mcpb's own schema, unpacked with mcpb's unpacker, configured
 * with mcpb's getMcpConfigForManifest (the substitution Claude Desktop runs), then started exactly as
 * the manifest says and driven through the SDK client against the sandbox.
 */
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, sep } from 'node:path';
import { getMcpConfigForManifest, unpackExtension, validateManifest } from '@anthropic-ai/mcpb';
import { type Bundle, buildBundles, type McpbManifest, manifestProblems } from '@gatehouse/release/mcpb';
import { startSandbox } from '@gatehouse/sandbox';
import { type PackageJson, readJson } from '@gatehouse/workspace';
import { Client } from '@modelcontextprotocol/client';
import { StdioClientTransport } from '@modelcontextprotocol/client/stdio';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type E2eServer, repoRoot, SERVERS } from './src/servers.ts';

const work = mkdtempSync(join(tmpdir(), 'gatehouse-mcpb-test-'));
const PUBLISHED = SERVERS.filter((s) => !s.json.private);

let bundles: Map<string, Bundle>;
let sandbox: Awaited<ReturnType<typeof startSandbox>>;

/** How the manifest refers to a user_config value. */
const ref = (key: string) => `\${user_config.${key}}`;

interface SurfaceTool {
  name: string;
  annotations?: { readOnlyHint?: boolean };
}

beforeAll(async () => {
  const [built, started] = await Promise.all([
    buildBundles({ root: repoRoot, outDir: join(work, 'dist-mcpb') }),
    startSandbox(),
  ]);
  bundles = new Map(built.map((b) => [b.server, b]));
  sandbox = started;
}, 90_000);

afterAll(async () => {
  await sandbox?.close();
  rmSync(work, { recursive: true, force: true });
});

it('bundles every published server', () => {
  expect([...bundles.keys()].sort()).toEqual(PUBLISHED.map((s) => s.name).sort());
});

describe.each(PUBLISHED.map((s) => [s.name, s] as const))('%s bundle', (server: string, info: E2eServer) => {
  const dir = info.dir;
  const pkg = readJson<PackageJson>(join(dir, 'package.json'));
  const surface = readJson<{ tools: SurfaceTool[] }>(join(dir, 'surface.json'));
  const unpacked = join(work, 'unpacked', server);
  let manifest: McpbManifest;

  beforeAll(async () => {
    const bundle = bundles.get(server)!;
    expect(await unpackExtension({ mcpbPath: bundle.file, outputDir: unpacked, silent: true })).toBe(true);
    manifest = readJson<McpbManifest>(join(unpacked, 'manifest.json'));
  });

  it('is dist-mcpb/<server>-<version>.mcpb with a manifest mcpb validates', () => {
    const bundle = bundles.get(server)!;
    expect(bundle.file).toBe(join(work, 'dist-mcpb', `${server}-${pkg.version}.mcpb`));
    expect(validateManifest(join(unpacked, 'manifest.json'))).toBe(true);
    expect(manifestProblems(manifest)).toEqual([]);
    expect(manifest.version).toBe(pkg.version);
    expect(manifest.server.type).toBe('node');
    expect(existsSync(join(unpacked, manifest.server.entry_point))).toBe(true);
    expect(manifest.compatibility?.runtimes?.node).toBe('>=22.13');
    expect(manifest.tools?.map((t) => t.name)).toEqual(surface.tools.map((t) => t.name));
  });

  it('asks for the credentials, the token as a secret', () => {
    const config = manifest.user_config ?? {};
    // A server that can run without its upstream (docs: from a local folder) does not insist on it.
    const required = info.definition.upstream === 'required';
    expect(config.api_url).toMatchObject({ type: 'string', required });
    expect(config.api_url?.sensitive).toBeUndefined();
    expect(config.api_token).toMatchObject({ type: 'string', required, sensitive: true });
    const prefix = info.prefix;
    expect(manifest.server.mcp_config.env).toMatchObject({
      [`${prefix}_API_URL`]: ref('api_url'),
      [`${prefix}_API_TOKEN`]: ref('api_token'),
    });
  });

  it('holds what runs and only that: production dependencies at their locked versions', () => {
    const top = readdirSync(unpacked).sort();
    expect(top).toEqual(expect.arrayContaining(['dist', 'manifest.json', 'node_modules', 'package.json']));
    expect(
      top.filter((f) => ['src', 'test', 'tsconfig.json', 'surface.json', 'pnpm-lock.yaml'].includes(f)),
    ).toEqual([]);
    const bundled = readJson<PackageJson>(join(unpacked, 'package.json'));
    expect(Object.keys(bundled.dependencies ?? {}).sort()).toEqual(
      Object.keys(pkg.dependencies ?? {}).sort(),
    );
    expect(bundled.devDependencies).toBeUndefined();
    for (const [name, version] of Object.entries(bundled.dependencies ?? {})) {
      expect(version, name).toMatch(/^\d+\.\d+\.\d+/);
      const installed = readJson<PackageJson>(
        join(unpacked, 'node_modules', ...name.split('/'), 'package.json'),
      );
      expect(installed.version, name).toBe(version);
    }
    const modules = readdirSync(join(unpacked, 'node_modules'));
    for (const dev of ['@gatehouse', 'vitest', 'typescript', 'tsup', '.pnpm', '.bin'])
      expect(modules, dev).not.toContain(dev);
    // No native addons: the manifest promises darwin, win32 and linux from one zip built on any of them.
    const native = readdirSync(join(unpacked, 'node_modules'), { recursive: true, encoding: 'utf8' }).filter(
      (f) => f.endsWith('.node') || f.endsWith('binding.gyp'),
    );
    expect(native).toEqual([]);
    // core is bundled into dist/: nothing there imports a @gatehouse package at run time.
    for (const file of readdirSync(join(unpacked, 'dist')))
      expect(readFileSync(join(unpacked, 'dist', file), 'utf8'), file).not.toMatch(
        /(from|import\()\s*['"]@gatehouse\//,
      );
  });

  it('starts as its mcp_config says and answers initialize and tools/list against the sandbox', async () => {
    // What a host does: substitute ${__dirname} and the user's answers into mcp_config.
    const config = await getMcpConfigForManifest({
      manifest: manifest as never,
      extensionPath: unpacked,
      systemDirs: {},
      userConfig: { api_url: sandbox.url, api_token: sandbox.tokens[server] },
      pathSeparator: sep,
    });
    expect(config).toBeDefined();
    const { command, args = [], env = {} } = config!;
    expect(JSON.stringify({ args, env })).not.toContain('${');
    expect(args[0]).toBe(join(unpacked, manifest.server.entry_point));
    // A desktop host runs "node" with the Node it ships; here that is the Node running the tests.
    expect(command).toBe('node');
    const transport = new StdioClientTransport({ command: process.execPath, args, env, stderr: 'pipe' });
    let stderr = '';
    transport.stderr?.on('data', (chunk: Buffer) => {
      stderr = (stderr + chunk.toString('utf8')).slice(-8_000);
    });
    const client = new Client({ name: 'mcpb-host-test', version: '1.0.0' });
    try {
      await client.connect(transport);
      expect(client.getServerVersion()?.version, stderr).toBe(pkg.version);
      const { tools } = await client.listTools();
      const listed = tools.map((t) => t.name);
      const declared = manifest.tools?.map((t) => t.name) ?? [];
      // Default scopes (<server>:read): every read tool is there, nothing outside the manifest.
      for (const name of listed) expect(declared, name).toContain(name);
      for (const tool of surface.tools.filter((t) => t.annotations?.readOnlyHint))
        expect(listed, tool.name).toContain(tool.name);
      // Its smoke call (test/e2e.json) answers from the sandbox through the bundle too.
      if (info.inputs.call) {
        const answer = await client.callTool(info.inputs.call);
        expect(answer.isError, JSON.stringify(answer.content)).toBeFalsy();
        expect(answer.structuredContent).toBeTypeOf('object');
      }
    } finally {
      await client.close();
    }
  });
});
