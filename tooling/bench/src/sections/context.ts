import { encode } from 'gpt-tokenizer';
import { StdioPeer } from '../peer.ts';
import { type Options, type Row, type SectionResult, verdict } from '../report.ts';
import { makeScratch, type Target } from '../servers.ts';

const TOKEN_LIMIT = 3_000;
const RESULT_LIMIT = 8 * 1024;

interface ToolInfo {
  name: string;
  inputSchema: { properties?: Record<string, { type?: string; enum?: unknown[] }>; required?: string[] };
  annotations?: { readOnlyHint?: boolean };
}

/** Known-good values by argument name, for calling each read tool with its defaults. */
export type Seeds = Record<string, unknown>;

function defaultArgs(tool: ToolInfo, seeds: Seeds): Record<string, unknown> {
  const args: Record<string, unknown> = {};
  for (const name of tool.inputSchema.required ?? []) {
    const prop = tool.inputSchema.properties?.[name] ?? {};
    if (name in seeds) args[name] = seeds[`${tool.name}.${name}`] ?? seeds[name];
    else if (prop.enum?.length) args[name] = prop.enum[0];
    else if (prop.type === 'integer' || prop.type === 'number') args[name] = 1;
    else if (prop.type === 'boolean') args[name] = false;
    else args[name] = 'checkout-api';
  }
  for (const key of Object.keys(seeds))
    if (key.startsWith(`${tool.name}.`)) args[key.slice(tool.name.length + 1)] = seeds[key];
  return args;
}

const bytes = (value: unknown) =>
  Buffer.byteLength(typeof value === 'string' ? value : JSON.stringify(value));

/**
 * What a server costs a model's context: tools/list (every scope granted, so
 * the whole surface) in bytes and tokens (o200k BPE via gpt-tokenizer; bytes/4
 * beside it), and the largest result any read tool returns with default
 * arguments (structured content and text fallback measured separately, as the
 * servers' own tests budget them).
 */
export async function context(targets: Target[], seeds: Record<string, Seeds>, _options: Options) {
  const started = performance.now();
  const scratch = makeScratch();
  const rows: Row[] = [];
  const data: Record<string, unknown> = {};
  for (const t of targets.filter((x) => x.kind === 'gatehouse' || x.name === 'bare SDK v2')) {
    const peer = new StdioPeer(t.bin, t.env(scratch, t.allScopes ?? {}));
    try {
      await peer.initialize();
      const list = (await peer.request('tools/list', {})).result as { tools: ToolInfo[] };
      const text = JSON.stringify(list.tools);
      const size = bytes(text);
      const tokens = encode(text).length;
      const gatehouse = t.kind === 'gatehouse';
      rows.push({
        subject: t.name,
        metric: `tools/list (${list.tools.length} tools, all scopes)`,
        value: `${size} bytes · ${tokens} tokens (bytes/4 ≈ ${Math.round(size / 4)})`,
        target: gatehouse ? `< ${TOKEN_LIMIT} tokens` : undefined,
        verdict: gatehouse ? verdict(tokens < TOKEN_LIMIT) : 'INFO',
      });
      const results: Record<string, unknown> = {};
      let largest = { tool: '', bytes: 0 };
      for (const tool of list.tools) {
        if (tool.annotations?.readOnlyHint === false) {
          results[tool.name] = 'skipped: side effect (needs approval)';
          continue;
        }
        const args = defaultArgs(tool, seeds[t.name] ?? {});
        const response = await peer.callTool(tool.name, args);
        const result = response.result as
          | { isError?: boolean; structuredContent?: unknown; content?: Array<{ text?: string }> }
          | undefined;
        if (!result || result.isError) {
          results[tool.name] = { args, error: result?.content?.[0]?.text ?? response.error };
          continue;
        }
        const structured = bytes(result.structuredContent ?? {});
        const textBytes = bytes((result.content ?? []).map((c) => c.text ?? '').join(''));
        results[tool.name] = { args, structuredBytes: structured, textBytes };
        const worst = Math.max(structured, textBytes);
        if (worst > largest.bytes) largest = { tool: tool.name, bytes: worst };
      }
      data[t.name] = { tools: list.tools.length, listBytes: size, listTokens: tokens, results, largest };
      rows.push({
        subject: t.name,
        metric: 'largest default tool result',
        value: largest.tool ? `${largest.bytes} bytes (${largest.tool})` : 'no read tool answered',
        target: gatehouse ? `≤ ${RESULT_LIMIT} bytes` : undefined,
        verdict: gatehouse ? verdict(largest.tool !== '' && largest.bytes <= RESULT_LIMIT) : 'INFO',
      });
    } finally {
      await peer.close();
    }
  }
  return {
    id: 'context',
    title: 'Context cost',
    status: 'ran',
    rows,
    data,
    ms: performance.now() - started,
  } satisfies SectionResult;
}
