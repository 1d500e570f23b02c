/**
 * server.json (MCP Registry format, schema 2025-12-11, vendored in
 * ../schema/server.schema.json) beside each server's package.json: its
 * versions follow the package version, its name is the package's mcpName.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { publishableServers, repoRoot, type WorkspacePackage } from '@gatehouse/workspace';
import { Ajv, type ErrorObject } from 'ajv';
import addFormatsModule from 'ajv-formats';

export const SCHEMA_URL = 'https://static.modelcontextprotocol.io/schemas/2025-12-11/server.schema.json';
export const SCHEMA_FILE = join(repoRoot, 'tooling', 'release', 'schema', 'server.schema.json');
/** sha256 of the published 2025-12-11 schema; the vendored copy must be byte-identical. */
export const SCHEMA_SHA256 = '3fba09590c99f61735d234822279f4223fab9e300c0a81e81c91ab62a4114de0';

export interface ServerJson {
  $schema: string;
  name: string;
  description: string;
  version: string;
  title?: string;
  repository?: { url: string; source: string; subfolder?: string };
  packages?: Array<{ registryType: string; identifier: string; version?: string; [key: string]: unknown }>;
  [key: string]: unknown;
}

export function serverJsonPath(pkg: WorkspacePackage): string {
  return join(pkg.dir, 'server.json');
}

export function readServerJson(pkg: WorkspacePackage): ServerJson {
  return JSON.parse(readFileSync(serverJsonPath(pkg), 'utf8')) as ServerJson;
}

/** Sets server.json's version, and its npm package entry's, to the package version. Returns whether it changed. */
export function syncServerJson(pkg: WorkspacePackage): boolean {
  const file = serverJsonPath(pkg);
  const before = readFileSync(file, 'utf8');
  const doc = JSON.parse(before) as ServerJson;
  doc.version = pkg.json.version;
  for (const entry of doc.packages ?? []) {
    if (entry.registryType === 'npm' && entry.identifier === pkg.json.name) entry.version = pkg.json.version;
  }
  const after = `${JSON.stringify(doc, null, 2)}\n`;
  if (after !== before) writeFileSync(file, after);
  return after !== before;
}

// ajv-formats is CommonJS: its default export arrives as the module object under NodeNext.
const addFormats = ((addFormatsModule as unknown as { default?: unknown }).default ??
  addFormatsModule) as unknown as (ajv: Ajv) => Ajv;

let validator: ReturnType<Ajv['compile']> | undefined;
function schemaValidator() {
  if (!validator) {
    const ajv = new Ajv({ strict: false, allErrors: true });
    addFormats(ajv);
    validator = ajv.compile(JSON.parse(readFileSync(SCHEMA_FILE, 'utf8')));
  }
  return validator;
}

const VERSION_RANGE = /[\^~<>=*\s]|(^|\.)[xX](\.|$)|^latest$/;

/** Everything wrong with one server's server.json: the schema, plus what must agree with package.json. */
export function checkServerJson(pkg: WorkspacePackage, doc: ServerJson = readServerJson(pkg)): string[] {
  const problems: string[] = [];
  const validate = schemaValidator();
  if (!validate(doc)) {
    for (const e of (validate.errors ?? []) as ErrorObject[]) {
      problems.push(`schema: ${e.instancePath || '/'} ${e.message ?? ''}`.trim());
    }
  }
  if (doc.$schema !== SCHEMA_URL) problems.push(`$schema must be ${SCHEMA_URL}`);
  if (doc.name !== pkg.json.mcpName)
    problems.push(`name ${doc.name} is not package.json mcpName ${pkg.json.mcpName}`);
  if (doc.version !== pkg.json.version)
    problems.push(`version ${doc.version} is not the package version ${pkg.json.version}`);
  if (VERSION_RANGE.test(doc.version)) problems.push(`version ${doc.version} must be one specific version`);
  const npm = (doc.packages ?? []).filter((p) => p.registryType === 'npm');
  if (npm.length !== 1 || npm[0]?.identifier !== pkg.json.name) {
    problems.push(`packages must hold exactly one npm entry for ${pkg.json.name}`);
  } else if (npm[0].version !== pkg.json.version) {
    problems.push(`packages npm version ${String(npm[0].version)} is not ${pkg.json.version}`);
  }
  const repo = typeof pkg.json.repository === 'object' ? pkg.json.repository : undefined;
  if (repo?.url || doc.repository) {
    const url = (repo?.url ?? '').replace(/^git\+/, '').replace(/\.git$/, '');
    if (doc.repository?.url !== url) problems.push(`repository.url ${doc.repository?.url} is not ${url}`);
    if (doc.repository?.subfolder !== pkg.relativeDir)
      problems.push(`repository.subfolder must be ${pkg.relativeDir}`);
  }
  return problems;
}

/** CLI: `node server-json.ts sync|check [root]`. */
export function main(argv: string[]): number {
  const [command = 'check', root = repoRoot] = argv;
  let failed = false;
  for (const pkg of publishableServers(root)) {
    if (command === 'sync') {
      const changed = syncServerJson(pkg);
      process.stdout.write(
        `${pkg.relativeDir}/server.json ${changed ? `→ ${pkg.json.version}` : 'up to date'}\n`,
      );
    } else {
      const problems = checkServerJson(pkg);
      for (const problem of problems) process.stderr.write(`${pkg.relativeDir}/server.json: ${problem}\n`);
      failed ||= problems.length > 0;
    }
  }
  return failed ? 1 : 0;
}

if (import.meta.main) process.exitCode = main(process.argv.slice(2));
