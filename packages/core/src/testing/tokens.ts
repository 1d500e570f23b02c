/**
 * What one tool costs a model's context, in tokens: the parts a model reads
 * (name, title, description, input schema) apart from the output schema,
 * which hosts validate against but rarely show. Counted with the o200k BPE
 * (gpt-tokenizer, as the bench counts tools/list), loaded only when asked.
 */
import type { AnyServerDefinition } from '../call/definition.ts';
import { toolsOf } from '../call/definition.ts';
import { jsonSchemaOf } from '../define/schema.ts';

/** The most model-visible tokens one tool may cost. */
export const MAX_TOOL_TOKENS = 300;

/** A tools/list entry, as listed (or as built from a definition). */
export interface ListedTool {
  name: string;
  title?: string;
  description?: string;
  inputSchema: unknown;
  outputSchema?: unknown;
}

export interface ToolTokens {
  name: string;
  /** name, title, description and input schema, as JSON. */
  visible: number;
  /** The output schema alone, as JSON. */
  output: number;
}

/** Tokens of each tool's model-visible part and of its output schema. */
export async function toolTokens(tools: readonly ListedTool[]): Promise<ToolTokens[]> {
  const { encode } = await import('gpt-tokenizer');
  return tools.map(({ name, title, description, inputSchema, outputSchema }) => ({
    name,
    visible: encode(JSON.stringify({ name, title, description, inputSchema })).length,
    output: outputSchema === undefined ? 0 : encode(JSON.stringify(outputSchema)).length,
  }));
}

/** The tools of a definition as tools/list shows them (the schemas as advertised). */
function listedTools(definition: AnyServerDefinition, env?: Record<string, unknown>): ListedTool[] {
  return toolsOf(definition, env).map((tool) => ({
    name: tool.name,
    title: tool.title,
    description: tool.description,
    inputSchema: jsonSchemaOf(tool.input.strict(), 'input'),
    outputSchema: jsonSchemaOf(tool.output, 'output'),
  }));
}

/** One line per tool over the model-visible budget; empty when every tool fits. */
export async function tokenBudgetProblems(definition: AnyServerDefinition): Promise<string[]> {
  return (await toolTokens(listedTools(definition)))
    .filter((t) => t.visible >= MAX_TOOL_TOKENS)
    .map(
      (t) =>
        `tool ${t.name}: ${t.visible} model-visible tokens (name, title, description, input schema), over the budget of ${MAX_TOOL_TOKENS}; trim its description`,
    );
}
