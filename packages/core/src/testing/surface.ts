import type { Client } from '@modelcontextprotocol/client';
import type { AnyServerDefinition } from '../call/definition.ts';
import { withGeneratedTables } from '../docs/readme.ts';

/**
 * A server's public capability surface as a client sees it: tools with their
 * schemas and annotations, resources, templates, prompts. Committed per server
 * (surface.json) so any change to it shows up in review and needs a changeset.
 */
export async function captureSurface(client: Client) {
  const capabilities = client.getServerCapabilities() ?? {};
  const { tools } = capabilities.tools ? await client.listTools() : { tools: [] };
  const { resources } = capabilities.resources ? await client.listResources() : { resources: [] };
  const { resourceTemplates } = capabilities.resources
    ? await client.listResourceTemplates()
    : { resourceTemplates: [] };
  const { prompts } = capabilities.prompts ? await client.listPrompts() : { prompts: [] };
  const byName = <T extends { name: string }>(items: T[]) =>
    [...items].sort((a, b) => a.name.localeCompare(b.name));
  return {
    tools: byName(tools).map((t) => ({
      name: t.name,
      title: t.title,
      description: t.description,
      annotations: t.annotations,
      inputSchema: t.inputSchema,
      outputSchema: t.outputSchema,
    })),
    // Concrete resources listed from templates depend on upstream data and are not part of the surface.
    resources: byName(resources.filter((r) => r._meta?.['dev.gatehouse/template'] === undefined)).map(
      (r) => ({
        name: r.name,
        uri: r.uri,
        title: r.title,
        description: r.description,
        mimeType: r.mimeType,
      }),
    ),
    resourceTemplates: byName(resourceTemplates).map((t) => ({
      name: t.name,
      uriTemplate: t.uriTemplate,
      title: t.title,
      description: t.description,
      mimeType: t.mimeType,
    })),
    prompts: byName(prompts).map((p) => ({
      name: p.name,
      title: p.title,
      description: p.description,
      arguments: p.arguments,
    })),
  };
}
export type Surface = Awaited<ReturnType<typeof captureSurface>>;

/**
 * Compares the live surface with the committed snapshot file. With
 * UPDATE_SURFACE=1 in the environment it rewrites the snapshot instead
 * (review the diff and add a changeset: see CONTRIBUTING.md).
 */
export async function surfaceAgainstSnapshot(
  client: Client,
  file: string,
): Promise<{ actual: Surface; committed: Surface | undefined }> {
  const { existsSync, readFileSync, writeFileSync } = await import('node:fs');
  const actual = JSON.parse(JSON.stringify(await captureSurface(client))) as Surface;
  if (process.env.UPDATE_SURFACE === '1') writeFileSync(file, `${JSON.stringify(actual, null, 2)}\n`);
  const committed = existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as Surface) : undefined;
  return { actual, committed };
}

/** The live surface of a built binary (v2 client, 2026-07-28) against its committed snapshot. */
export async function binarySurfaceAgainstSnapshot(options: {
  bin: string;
  env: Record<string, string>;
  snapshot: string;
}) {
  const { connectV2 } = await import('./index.ts');
  const connected = await connectV2({ bin: options.bin, env: options.env });
  try {
    return await surfaceAgainstSnapshot(connected.client, options.snapshot);
  } finally {
    await connected.close();
  }
}

/**
 * A README's generated block as committed and as the definition renders it
 * now, compared without table padding (a Markdown formatter may align columns).
 */
export async function readmeAgainstDefinition(
  definition: AnyServerDefinition,
  readme: string,
): Promise<{ generated: string; committed: string }> {
  const { readFileSync } = await import('node:fs');
  const committed = readFileSync(readme, 'utf8');
  const normalise = (text: string) =>
    text
      .split('\n')
      .map((line) =>
        line.startsWith('|') ? line.replace(/-{3,}/g, '---').replace(/\s+/g, ' ').trim() : line,
      )
      .join('\n');
  return {
    generated: normalise(withGeneratedTables(committed, definition)),
    committed: normalise(committed),
  };
}
