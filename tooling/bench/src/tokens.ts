import { encode } from 'gpt-tokenizer';
import { StdioPeer } from './peer.ts';
import { type Options, type Row, type SectionResult, verdict } from './report.ts';
import { makeScratch, type Target } from './servers.ts';

/** The most model-visible tokens one tool may cost (the registry check in core holds the same line). */
const TOOL_LIMIT = 300;

interface Listed {
  name: string;
  title?: string;
  description?: string;
  inputSchema?: unknown;
  outputSchema?: unknown;
}

/**
 * Token budgets per tool, from each Gatehouse server's own tools/list (every scope granted): what a
 * model reads — name, title, description and input schema — apart from the output schema, which a
 * host validates against but rarely shows. o200k BPE via gpt-tokenizer, as the context section.
 */
export async function tokens(targets: Target[], _options: Options): Promise<SectionResult> {
  const started = performance.now();
  const scratch = makeScratch();
  const rows: Row[] = [];
  const data: Record<string, unknown> = {};
  for (const t of targets.filter((x) => x.kind === 'gatehouse')) {
    const peer = new StdioPeer(t.bin, t.env(scratch, t.allScopes ?? {}));
    try {
      await peer.initialize();
      const { tools } = (await peer.request('tools/list', {})).result as { tools: Listed[] };
      const perTool = tools.map(({ name, title, description, inputSchema, outputSchema }) => ({
        name,
        visible: encode(JSON.stringify({ name, title, description, inputSchema })).length,
        output: outputSchema === undefined ? 0 : encode(JSON.stringify(outputSchema)).length,
      }));
      data[t.name] = perTool;
      for (const tool of perTool)
        rows.push({
          subject: t.name,
          metric: `${tool.name}: model-visible tokens (output schema apart)`,
          value: `${tool.visible} (+ ${tool.output} output schema)`,
          target: `< ${TOOL_LIMIT}`,
          verdict: verdict(tool.visible < TOOL_LIMIT),
        });
      const visible = perTool.reduce((sum, tool) => sum + tool.visible, 0);
      const output = perTool.reduce((sum, tool) => sum + tool.output, 0);
      rows.push({
        subject: t.name,
        metric: `all ${perTool.length} tools: model-visible tokens (output schemas apart)`,
        value: `${visible} (+ ${output} output schemas)`,
        verdict: 'INFO',
      });
    } finally {
      await peer.close();
    }
  }
  return {
    id: 'tokens',
    title: 'Token budgets per tool',
    status: 'ran',
    rows,
    data,
    ms: performance.now() - started,
  };
}
