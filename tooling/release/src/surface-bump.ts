/**
 * What bump does each server owe for its capability surface? Compares the
 * committed surface.json with the one of the last release — the git tag
 * `<package>@<version>` that `changeset publish` creates (the npm tarball
 * ships only what runs, so surface.json is deliberately not in it) — and
 * checks the pending changesets declare at least that bump.
 *
 *   major  a tool, resource, template or prompt removed or renamed; a required argument
 *          added; an argument removed or narrowed; an output field removed, made optional
 *          or its type changed; a read tool turned into a writing or destructive one
 *   minor  a tool, resource, template or prompt added; an optional argument added; an
 *          argument widened; an output field added
 *   patch  titles, descriptions and anything else
 *
 *   node tooling/release/surface-bump.ts [--base <git ref>]   exit 1 when a changeset owes more
 *   (pnpm surface-bump; this module is its logic, the file at the package root its entry point)
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { publishableServers, repoRoot } from '@gatehouse/workspace';

export type Bump = 'none' | 'patch' | 'minor' | 'major';
const ORDER: Bump[] = ['none', 'patch', 'minor', 'major'];
const maxBump = (a: Bump, b: Bump): Bump => (ORDER.indexOf(a) >= ORDER.indexOf(b) ? a : b);

type Json = Record<string, unknown>;
interface Named {
  name: string;
  [key: string]: unknown;
}
export interface Surface {
  tools: Named[];
  resources?: Named[];
  resourceTemplates?: Named[];
  prompts?: Named[];
}
export interface Change {
  bump: Bump;
  what: string;
}

const obj = (v: unknown): Json => (v && typeof v === 'object' && !Array.isArray(v) ? (v as Json) : {});
const props = (schema: unknown) => obj(obj(schema).properties);
const required = (schema: unknown) => new Set((obj(schema).required as string[] | undefined) ?? []);
const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);

/** Is `after` (an input schema for one argument) narrower than `before` (accepts less)? Wider? */
function argumentChange(before: Json, after: Json): 'narrower' | 'wider' | 'same' {
  if (same(before, after)) return 'same';
  const b = { ...before, description: undefined, title: undefined };
  const a = { ...after, description: undefined, title: undefined };
  if (same(b, a)) return 'same';
  if (!same(before.type, after.type)) return 'narrower';
  const beforeEnum = before.enum as unknown[] | undefined;
  const afterEnum = after.enum as unknown[] | undefined;
  if (afterEnum && (!beforeEnum || beforeEnum.some((v) => !afterEnum.includes(v)))) return 'narrower';
  for (const key of ['maxLength', 'maximum', 'maxItems', 'exclusiveMaximum']) {
    if (
      typeof after[key] === 'number' &&
      (typeof before[key] !== 'number' || (after[key] as number) < (before[key] as number))
    ) {
      return 'narrower';
    }
  }
  for (const key of ['minLength', 'minimum', 'minItems', 'exclusiveMinimum']) {
    if (
      typeof after[key] === 'number' &&
      (typeof before[key] !== 'number' || (after[key] as number) > (before[key] as number))
    ) {
      return 'narrower';
    }
  }
  if (after.pattern !== undefined && !same(before.pattern, after.pattern)) return 'narrower';
  return 'wider';
}

const writes = (tool: Named) => {
  const annotations = obj(tool.annotations);
  return annotations.readOnlyHint !== true || annotations.destructiveHint === true;
};

function compareTool(before: Named, after: Named): Change[] {
  const changes: Change[] = [];
  const at = `tool ${after.name}`;
  const readBefore = obj(before.annotations).readOnlyHint === true;
  if (readBefore && writes(after)) changes.push({ bump: 'major', what: `${at} turned from read into write` });
  else if (
    obj(before.annotations).destructiveHint !== true &&
    obj(after.annotations).destructiveHint === true
  ) {
    changes.push({ bump: 'major', what: `${at} became destructive` });
  }
  // Input: what callers may send.
  const inBefore = props(before.inputSchema);
  const inAfter = props(after.inputSchema);
  const reqBefore = required(before.inputSchema);
  const reqAfter = required(after.inputSchema);
  for (const name of Object.keys(inBefore)) {
    if (!(name in inAfter)) changes.push({ bump: 'major', what: `${at}: argument ${name} removed` });
  }
  for (const [name, schema] of Object.entries(inAfter)) {
    if (!(name in inBefore)) {
      changes.push(
        reqAfter.has(name)
          ? { bump: 'major', what: `${at}: required argument ${name} added` }
          : { bump: 'minor', what: `${at}: optional argument ${name} added` },
      );
      continue;
    }
    if (reqAfter.has(name) && !reqBefore.has(name))
      changes.push({ bump: 'major', what: `${at}: argument ${name} now required` });
    else if (!reqAfter.has(name) && reqBefore.has(name))
      changes.push({ bump: 'minor', what: `${at}: argument ${name} now optional` });
    const change = argumentChange(obj(inBefore[name]), obj(schema));
    if (change === 'narrower') changes.push({ bump: 'major', what: `${at}: argument ${name} narrowed` });
    if (change === 'wider') changes.push({ bump: 'minor', what: `${at}: argument ${name} widened` });
  }
  // Output: what callers may rely on.
  const outBefore = props(before.outputSchema);
  const outAfter = props(after.outputSchema);
  const outReqBefore = required(before.outputSchema);
  const outReqAfter = required(after.outputSchema);
  if (before.outputSchema && !after.outputSchema)
    changes.push({ bump: 'major', what: `${at}: output schema removed` });
  for (const [name, schema] of Object.entries(outBefore)) {
    if (!(name in outAfter)) changes.push({ bump: 'major', what: `${at}: output field ${name} removed` });
    else if (outReqBefore.has(name) && !outReqAfter.has(name)) {
      changes.push({ bump: 'major', what: `${at}: output field ${name} no longer always present` });
    } else if (!same(obj(schema).type, obj(outAfter[name]).type)) {
      changes.push({ bump: 'major', what: `${at}: output field ${name} changed type` });
    } else if (!same(schema, outAfter[name])) {
      changes.push({ bump: 'minor', what: `${at}: output field ${name} changed shape` });
    }
  }
  for (const name of Object.keys(outAfter)) {
    if (!(name in outBefore)) changes.push({ bump: 'minor', what: `${at}: output field ${name} added` });
  }
  if (changes.length === 0 && !same(before, after))
    changes.push({ bump: 'patch', what: `${at}: title or description changed` });
  return changes;
}

function compareList(kind: string, before: Named[] = [], after: Named[] = []): Change[] {
  const changes: Change[] = [];
  const key = (item: Named) => item.name;
  const afterByName = new Map(after.map((i) => [key(i), i]));
  const beforeByName = new Map(before.map((i) => [key(i), i]));
  for (const item of before) {
    const next = afterByName.get(key(item));
    if (!next) {
      changes.push({ bump: 'major', what: `${kind} ${item.name} removed or renamed` });
      continue;
    }
    if (kind === 'tool') changes.push(...compareTool(item, next));
    else if (kind === 'prompt') {
      const args = (p: Named) =>
        (p.arguments as Array<{ name: string; required?: boolean }> | undefined) ?? [];
      const was = new Map(args(item).map((a) => [a.name, a]));
      const now = new Map(args(next).map((a) => [a.name, a]));
      for (const name of was.keys())
        if (!now.has(name))
          changes.push({ bump: 'major', what: `prompt ${item.name}: argument ${name} removed` });
      for (const [name, arg] of now) {
        if (!was.has(name)) {
          changes.push({
            bump: arg.required ? 'major' : 'minor',
            what: `prompt ${item.name}: argument ${name} added`,
          });
        } else if (arg.required && !was.get(name)?.required) {
          changes.push({ bump: 'major', what: `prompt ${item.name}: argument ${name} now required` });
        }
      }
      if (!changes.length && !same(item, next))
        changes.push({ bump: 'patch', what: `prompt ${item.name} changed` });
    } else if (!same(item.uri ?? item.uriTemplate, next.uri ?? next.uriTemplate)) {
      changes.push({ bump: 'major', what: `${kind} ${item.name} moved` });
    } else if (!same(item, next)) changes.push({ bump: 'patch', what: `${kind} ${item.name} changed` });
  }
  for (const item of after) {
    if (!beforeByName.has(key(item))) changes.push({ bump: 'minor', what: `${kind} ${item.name} added` });
  }
  return changes;
}

/** Every change between two surfaces, each with the bump it owes. */
export function classify(before: Surface, after: Surface): { bump: Bump; changes: Change[] } {
  const changes = [
    ...compareList('tool', before.tools, after.tools),
    ...compareList('resource', before.resources, after.resources),
    ...compareList('resource template', before.resourceTemplates, after.resourceTemplates),
    ...compareList('prompt', before.prompts, after.prompts),
  ];
  return { bump: changes.reduce<Bump>((max, c) => maxBump(max, c.bump), 'none'), changes };
}

/** The bump each package gets from the pending changesets (.changeset/*.md front matter). */
export function declaredBumps(root: string): Map<string, Bump> {
  const dir = join(root, '.changeset');
  const bumps = new Map<string, Bump>();
  if (!existsSync(dir)) return bumps;
  for (const file of readdirSync(dir)) {
    if (!file.endsWith('.md') || file === 'README.md') continue;
    const front = /^---\n([\s\S]*?)\n---/.exec(readFileSync(join(dir, file), 'utf8'))?.[1] ?? '';
    for (const line of front.split('\n')) {
      const m = /^\s*["']?([^"':]+)["']?\s*:\s*(major|minor|patch)\s*$/.exec(line);
      if (m) bumps.set(m[1]!, maxBump(bumps.get(m[1]!) ?? 'none', m[2] as Bump));
    }
  }
  return bumps;
}

/** In 0.x, changesets' "minor" is the breaking bump; owed major → minor suffices below 1.0.0. */
export function satisfies(version: string, owed: Bump, declared: Bump): boolean {
  const effective = version.startsWith('0.') && owed === 'major' ? 'minor' : owed;
  return ORDER.indexOf(declared) >= ORDER.indexOf(effective);
}

function git(args: string[], cwd: string): string | undefined {
  try {
    return execFileSync('git', args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
  } catch {
    return undefined;
  }
}

export function main(argv: string[]): number {
  const { values } = parseArgs({
    args: argv,
    options: { base: { type: 'string' }, root: { type: 'string' } },
  });
  const root = values.root ?? repoRoot;
  const declared = declaredBumps(root);
  let failed = false;
  for (const pkg of publishableServers(root)) {
    const file = join(pkg.dir, 'surface.json');
    if (!existsSync(file)) continue;
    const ref = values.base ?? `${pkg.json.name}@${pkg.json.version}`;
    const old = git(['show', `${ref}:${pkg.relativeDir}/surface.json`], root);
    if (old === undefined) {
      process.stdout.write(`${pkg.json.name}: no surface at ${ref} (not released yet): nothing to compare\n`);
      continue;
    }
    const { bump, changes } = classify(
      JSON.parse(old) as Surface,
      JSON.parse(readFileSync(file, 'utf8')) as Surface,
    );
    const has = declared.get(pkg.json.name) ?? 'none';
    const ok = satisfies(pkg.json.version, bump, has);
    failed ||= !ok;
    process.stdout.write(
      `${pkg.json.name}: surface owes ${bump}, changesets declare ${has}${ok ? '' : ' — NOT ENOUGH'}\n`,
    );
    for (const change of changes) process.stdout.write(`  ${change.bump.padEnd(5)} ${change.what}\n`);
  }
  return failed ? 1 : 0;
}
