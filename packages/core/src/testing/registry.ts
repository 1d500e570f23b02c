import { readdirSync } from 'node:fs';
import { type AnyServerDefinition, toolsetProblems, toolsOf } from '../call/definition.ts';
import { jsonSchemaOf } from '../define/schema.ts';
import { containsHidden } from '../define/text.ts';

/** Budgets that keep a server's tools/list small enough for a model's context. */
export const REGISTRY_BUDGETS = {
  maxTools: 12,
  maxDescription: 600,
  minDescription: 40,
  maxListBytes: 12_000,
} as const;

const NAME = /^[a-z][a-z0-9_]{0,63}$/;

/**
 * Checks a server definition against the house rules every server shares:
 * one file per tool named after it, descriptions within budget and free of
 * hidden characters, safety metadata consistent, input schemas plain objects
 * (no top-level anyOf/oneOf), scopes from the server's declared vocabulary,
 * every tool in exactly one declared toolset.
 * Returns a list of problems; an empty list passes.
 */
/**
 * The SDK matches a URI against each template's regular expression before core
 * sees it. Two expressions in one path segment, or a reserved expansion before
 * the last, make that expression backtrack polynomially on a URI that fails to
 * match late (seconds at 2,000 characters), so such templates are refused.
 */
export function templateShapeProblems(uriTemplate: string): string[] {
  const problems: string[] = [];
  const expressions = [...uriTemplate.matchAll(/\{([+#./;?&]?)[^}]*\}/g)];
  for (const segment of uriTemplate.split('/'))
    if ((segment.match(/\{/g) ?? []).length > 1) problems.push(`several expressions in segment ${segment}`);
  expressions.forEach((expression, i) => {
    if ((expression[1] === '+' || expression[1] === '#') && i < expressions.length - 1)
      problems.push(`reserved expression ${expression[0]} is not the last`);
  });
  return problems;
}

export function registryProblems(definition: AnyServerDefinition, toolsDir: string): string[] {
  const problems: string[] = [];
  const tools = toolsOf(definition);
  const files = new Set(
    readdirSync(toolsDir)
      .filter((f) => f.endsWith('.ts') && f !== 'index.ts' && !f.endsWith('.test.ts'))
      .map((f) => f.slice(0, -3)),
  );
  if (tools.length > REGISTRY_BUDGETS.maxTools)
    problems.push(`${tools.length} tools exceed the budget of ${REGISTRY_BUDGETS.maxTools}`);
  const names = new Set<string>();
  let listBytes = 0;
  for (const tool of tools) {
    const where = `tool ${tool.name}`;
    if (!NAME.test(tool.name)) problems.push(`${where}: name must be snake_case [a-z0-9_]`);
    if (names.has(tool.name)) problems.push(`${where}: duplicate name`);
    names.add(tool.name);
    const file = tool.name.replaceAll('_', '-');
    if (!files.has(file)) problems.push(`${where}: expected its definition in ${file}.ts`);
    files.delete(file);
    if (
      tool.description.length < REGISTRY_BUDGETS.minDescription ||
      tool.description.length > REGISTRY_BUDGETS.maxDescription
    ) {
      problems.push(
        `${where}: description length ${tool.description.length} outside ${REGISTRY_BUDGETS.minDescription}-${REGISTRY_BUDGETS.maxDescription}`,
      );
    }
    if (containsHidden(tool.description) || containsHidden(tool.title))
      problems.push(`${where}: hidden characters in title or description`);
    if (!(tool.scope in definition.scopes))
      problems.push(`${where}: scope ${tool.scope} is not in the server's scope list`);
    if (tool.effect === 'read' && tool.scope.endsWith(':write'))
      problems.push(`${where}: a read tool should not need a write scope`);
    if (tool.effect !== 'read' && tool.scope.endsWith(':read'))
      problems.push(`${where}: a side-effecting tool must not be granted by a read scope`);
    if (tool.effect === 'destructive' && tool.approval !== 'human')
      problems.push(`${where}: destructive tools need human approval`);
    const input = jsonSchemaOf(tool.input, 'input');
    if (input.type !== 'object' || 'anyOf' in input || 'oneOf' in input)
      problems.push(`${where}: input schema must be a plain object`);
    listBytes += JSON.stringify({
      name: tool.name,
      title: tool.title,
      description: tool.description,
      input,
      output: jsonSchemaOf(tool.output, 'output'),
    }).length;
  }
  problems.push(...toolsetProblems(definition, tools));
  for (const resource of definition.resources ?? [])
    if (resource.kind === 'template')
      for (const problem of templateShapeProblems(resource.uriTemplate))
        problems.push(`resource template ${resource.uriTemplate}: ${problem}`);
  for (const orphan of files) problems.push(`${orphan}.ts is in the tools folder but not registered`);
  if (listBytes > REGISTRY_BUDGETS.maxListBytes)
    problems.push(`tools/list is ~${listBytes} bytes, over the ${REGISTRY_BUDGETS.maxListBytes}-byte budget`);
  return problems;
}
