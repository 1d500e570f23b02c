import { type AnyServerDefinition, needsApproval, toolsOf } from '../call/definition.ts';
import { envTable } from '../config/env.ts';
import type { AnyPrompt, AnyResource, AnyTool } from '../define/define.ts';
import { jsonSchemaOf } from '../define/schema.ts';
import { httpEnvTable } from '../http/settings.ts';

const cell = (text: string) => text.replaceAll('|', '\\|').replaceAll('\n', ' ');

function argumentsOf(tool: AnyTool): string {
  const schema = jsonSchemaOf(tool.input, 'input') as {
    properties?: Record<string, unknown>;
    required?: string[];
  };
  const required = new Set(schema.required ?? []);
  return Object.keys(schema.properties ?? {})
    .map((name) => (required.has(name) ? `\`${name}\`` : `\`${name}?\``))
    .join(', ');
}

/**
 * The README's capability and environment tables, generated from the
 * definitions themselves so the documentation cannot drift from the code.
 */
export function renderServerTables(definition: AnyServerDefinition): string {
  const tools = toolsOf(definition);
  const lines = [
    '### Tools',
    '',
    '| tool | what it does | arguments | effect | scope | approval | toolset |',
    '| --- | --- | --- | --- | --- | --- | --- |',
    ...tools.map(
      (t) =>
        `| \`${t.name}\` | ${cell(t.description)} | ${argumentsOf(t)} | ${t.effect} | \`${t.scope}\`${t.extraScopes ? ' (+ more for some arguments)' : ''} | ${needsApproval(t) ? 'human' : '—'} | \`${t.toolset}\` |`,
    ),
  ];
  const resources = (definition.resources ?? []) as AnyResource[];
  if (resources.length) {
    lines.push('', '### Resources', '', '| URI | what it is | scope |', '| --- | --- | --- |');
    for (const r of resources)
      lines.push(
        `| \`${r.kind === 'static' ? r.uri : r.uriTemplate}\` | ${cell(r.description)} | \`${r.scope}\` |`,
      );
  }
  const prompts = (definition.prompts ?? []) as AnyPrompt[];
  if (prompts.length) {
    lines.push('', '### Prompts', '', '| prompt | what it does | arguments |', '| --- | --- | --- |');
    for (const p of prompts)
      lines.push(
        `| \`${p.name}\` | ${cell(p.description)} | ${Object.keys(p.args.shape)
          .map((a) => `\`${a}\``)
          .join(', ')} |`,
      );
  }
  lines.push('', '### Scopes', '', '| scope | grants |', '| --- | --- |');
  for (const [scope, text] of Object.entries(definition.scopes))
    lines.push(`| \`${scope}\` | ${cell(text)} |`);
  lines.push(
    '',
    '### Toolsets',
    '',
    `A connection may narrow itself to some toolsets: \`${definition.envPrefix}_TOOLSETS\` for every connection, the \`X-Gatehouse-Toolsets\` header for one HTTP request (within the former).`,
    '',
    '| toolset | tools | what it covers |',
    '| --- | --- | --- |',
  );
  for (const [toolset, text] of Object.entries(definition.toolsets))
    lines.push(
      `| \`${toolset}\` | ${tools
        .filter((t) => t.toolset === toolset)
        .map((t) => `\`${t.name}\``)
        .join(', ')} | ${cell(text)} |`,
    );
  lines.push('', '### Environment', '', '| variable | required | meaning |', '| --- | --- | --- |');
  for (const e of envTable({
    prefix: definition.envPrefix,
    server: definition.name,
    upstream: definition.upstream,
    extra: definition.env,
  })) {
    lines.push(`| \`${e.name}\` | ${e.required ? 'yes' : ''} | ${cell(e.description)} |`);
  }
  lines.push(
    '',
    '### Environment for `--transport http`',
    '',
    'Streamable HTTP on `/mcp`, with `/healthz`, `/readyz` and `/metrics` on the same port. All optional; with',
    'authentication (`_OAUTH_ISSUER` and/or `_API_KEYS_FILE`) `_PUBLIC_URL` is required, without it (`--no-auth`) only',
    'a loopback bind is allowed.',
    '',
    '| variable | meaning |',
    '| --- | --- |',
  );
  for (const e of httpEnvTable(definition.envPrefix))
    lines.push(`| \`${e.name}\` | ${cell(e.description)} |`);
  lines.push('', 'Every variable may also be given as `<NAME>_FILE`, the path of a file holding the value.');
  return lines.join('\n');
}

export const GENERATED_START = '<!-- generated:capabilities:start (pnpm generate) -->';
export const GENERATED_END = '<!-- generated:capabilities:end -->';

/** Replaces the generated block of a README; throws when the markers are missing. */
export function withGeneratedTables(readme: string, definition: AnyServerDefinition): string {
  const start = readme.indexOf(GENERATED_START);
  const end = readme.indexOf(GENERATED_END);
  if (start === -1 || end === -1 || end < start)
    throw new Error('README lacks the generated-capabilities markers');
  return `${readme.slice(0, start + GENERATED_START.length)}\n${renderServerTables(definition)}\n${readme.slice(end)}`;
}
