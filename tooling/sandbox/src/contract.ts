/**
 * `@gatehouse/sandbox/contract`: the sandbox's OpenAPI document, assembled from its own part
 * (tooling/sandbox/openapi.yaml: /healthz, /_sandbox and the shared components) and each domain's fragment
 * (`servers/<name>/sandbox/openapi.yaml`: its paths and the components only it uses).
 */
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { type ContractFragment, type SandboxDomain, within } from './domain.ts';
import { resolveDomains } from './server.ts';
import type { SandboxOptions } from './types.ts';

/** Loosely typed on purpose: callers walk it as plain JSON. */
export interface OpenApiDocument {
  openapi: string;
  tags: { name: string }[];
  paths: Record<string, Record<string, unknown>>;
  components: Record<string, Record<string, unknown>>;
  [key: string]: unknown;
}

const BASE = new URL('../openapi.yaml', import.meta.url);

function readFragment(domain: SandboxDomain): ContractFragment {
  const contract = domain.contract;
  if (contract === undefined) return {};
  const fragment: unknown = contract instanceof URL ? parse(readFileSync(contract, 'utf8')) : contract;
  if (fragment === null || typeof fragment !== 'object')
    throw new Error(`contract of sandbox domain '${domain.name}' is not an object`);
  const extra = Object.keys(fragment).filter((key) => key !== 'paths' && key !== 'components');
  if (extra.length > 0)
    throw new Error(
      `contract of sandbox domain '${domain.name}' may only have paths and components (has ${extra})`,
    );
  return fragment as ContractFragment;
}

function collectRefs(node: unknown, out: Set<string>): Set<string> {
  if (Array.isArray(node)) for (const item of node) collectRefs(item, out);
  else if (node !== null && typeof node === 'object')
    for (const [key, value] of Object.entries(node))
      if (key === '$ref' && typeof value === 'string') out.add(value);
      else collectRefs(value, out);
  return out;
}

/** Merges the sandbox's part with each domain's fragment; throws on clashes and on dangling `$ref`s. */
export function assembleContract(domains: readonly SandboxDomain[]): OpenApiDocument {
  const doc = parse(readFileSync(BASE, 'utf8')) as OpenApiDocument;
  const own = Object.entries(doc.paths);
  const paths: OpenApiDocument['paths'] = Object.fromEntries(own.filter(([p]) => !within(p, '/_sandbox')));
  for (const domain of domains) {
    const fragment = readFragment(domain);
    for (const [path, operations] of Object.entries(fragment.paths ?? {})) {
      if (!within(path, domain.prefix))
        throw new Error(`contract of sandbox domain '${domain.name}': ${path} is outside ${domain.prefix}`);
      if (path in paths) throw new Error(`contract path ${path} is defined twice`);
      paths[path] = operations as Record<string, unknown>;
    }
    for (const [section, entries] of Object.entries(fragment.components ?? {})) {
      doc.components[section] ??= {};
      const target = doc.components[section];
      for (const [name, value] of Object.entries(entries)) {
        if (name in target)
          throw new Error(
            `contract of sandbox domain '${domain.name}' redefines components.${section}.${name}`,
          );
        target[name] = value;
      }
    }
  }
  for (const [path, operations] of own) if (within(path, '/_sandbox')) paths[path] = operations;
  doc.paths = paths;
  doc.tags = [...domains.map((d) => ({ name: d.name })), ...doc.tags];
  const tokenDomain = (
    doc.components.schemas?.RequestRecord as { properties: { tokenDomain: { enum: unknown[] } } } | undefined
  )?.properties.tokenDomain;
  if (tokenDomain) tokenDomain.enum = [...domains.map((d) => d.name), ...tokenDomain.enum];

  const dangling = [...collectRefs(doc, new Set())].filter((ref) => {
    const match = /^#\/components\/([^/]+)\/([^/]+)$/.exec(ref);
    return !match || doc.components[match[1]!]?.[match[2]!] === undefined;
  });
  if (dangling.length > 0) throw new Error(`sandbox contract has dangling $refs: ${dangling.join(', ')}`);
  return doc;
}

/** The contract of the domains a sandbox started with the same options would serve. */
export async function sandboxContract(
  options: Pick<SandboxOptions, 'domains' | 'discover'> = {},
): Promise<OpenApiDocument> {
  return assembleContract(await resolveDomains(options));
}
