/** docs' steps in `pnpm demo` (tooling/demo): both sources ranked together, and a path that tries to leave the folder. */
import type { DemoKit } from '@gatehouse/demo/kit';

export default async function demo(kit: DemoKit): Promise<void> {
  const { step, show, summarise } = kit;
  step('docs: architecture records, standards and ownership from a Markdown folder and the wiki');
  const client = await kit.connect(kit.env(), { approve: false });
  const search = await client.callTool({
    name: 'search_docs',
    arguments: { query: 'postgres database', limit: 3 },
  });
  const hits = (search.structuredContent as { results: Array<{ id: string; title: string; source: string }> })
    .results;
  show(hits.map((r) => `  ${r.source.padEnd(5)} ${r.id}  ${r.title}`).join('\n'));
  const adrs = await client.callTool({ name: 'list_adrs', arguments: { limit: 5 } });
  show(summarise(adrs));
  show(
    summarise(await client.callTool({ name: 'find_service_owner', arguments: { service: 'checkout-api' } })),
  );
  step('docs: a path that tries to leave the docs folder');
  show(
    await client.readResource({ uri: 'docs://../../etc/passwd' }).then(
      () => 'read?!',
      (e: Error) => `refused: ${e.message}`,
    ),
  );
  await client.close();
}
