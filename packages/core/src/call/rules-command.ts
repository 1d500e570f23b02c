/**
 * `<bin> policy check <file>`: the policy parses and fits a schema generated from this server's tool
 * definitions (exit 0; 1 with one line naming the problem). `<bin> policy explain --principal ID
 * --tool NAME --args '{…}' [--scopes a,b] [--groups g,h] [--transport stdio|http] [--at ISO]
 * [--policy FILE]`: may this principal call this tool with these arguments — allow or deny, and why.
 */
import { parseArgs } from 'node:util';
import { ConfigError } from '../config/env.ts';
import type { AnyServerDefinition } from './definition.ts';
import { toolsOf } from './definition.ts';
import type { Principal } from './policy.ts';

export const POLICY_USAGE =
  'policy check <file> | policy explain --principal ID --tool NAME [--args JSON] [--scopes a,b] [--groups g,h] [--transport stdio|http] [--at ISO-8601] [--policy FILE]';

export type PolicyOutcome = { code: 0 | 1; stdout: string } | { code: 2; error: string };

const list = (value: string | undefined) =>
  new Set(
    (value ?? '')
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean),
  );

export async function policyCommand(
  definition: AnyServerDefinition,
  args: string[],
  env: NodeJS.ProcessEnv,
): Promise<PolicyOutcome> {
  const { Rules } = await import('./rules.ts');
  const tools = toolsOf(definition);
  const variable = `${definition.envPrefix}_POLICY_FILE`;
  const [verb, ...rest] = args;
  let parsed: ReturnType<typeof parseArgs>;
  try {
    parsed = parseArgs({
      args: rest,
      allowPositionals: true,
      strict: true,
      options: {
        principal: { type: 'string' },
        tool: { type: 'string' },
        args: { type: 'string', default: '{}' },
        scopes: { type: 'string' },
        groups: { type: 'string' },
        transport: { type: 'string', default: 'http' },
        at: { type: 'string' },
        policy: { type: 'string' },
      },
    });
  } catch (error) {
    return { code: 2, error: `${(error as Error).message}; usage: ${POLICY_USAGE}` };
  }
  const values = parsed.values as Record<string, string | undefined>;
  const file = verb === 'check' ? parsed.positionals[0] : (values.policy ?? env[variable]);
  if (!file)
    return { code: 2, error: `no policy file: give one (or set ${variable}); usage: ${POLICY_USAGE}` };
  let rules: Awaited<ReturnType<typeof Rules.load>>;
  try {
    rules = await Rules.load(file, tools, variable);
  } catch (error) {
    if (error instanceof ConfigError) return { code: 1, stdout: `${error.message}\n` };
    throw error;
  }
  if (verb === 'check')
    return {
      code: 0,
      stdout: `${file}: ok, fits the ${tools.length} tools of ${definition.name} (sha256 ${rules.hash})\n`,
    };
  if (verb !== 'explain')
    return { code: 2, error: `unknown policy command ${JSON.stringify(verb)}; usage: ${POLICY_USAGE}` };
  const tool = tools.find((t) => t.name === values.tool);
  if (!values.principal || !tool)
    return {
      code: 2,
      error: `explain needs --principal and --tool (one of ${tools.map((t) => t.name).join(', ')})`,
    };
  let callArgs: Record<string, unknown>;
  try {
    callArgs = JSON.parse(values.args ?? '{}');
  } catch {
    return { code: 2, error: '--args must be a JSON object' };
  }
  const at = values.at ? new Date(values.at) : new Date();
  if (Number.isNaN(at.getTime())) return { code: 2, error: '--at must be an ISO-8601 date and time' };
  const principal: Principal = {
    id: values.principal,
    kind: values.transport === 'stdio' ? 'local' : 'oauth',
    scopes: values.scopes === undefined ? new Set([tool.scope]) : list(values.scopes),
    groups: list(values.groups),
  };
  const reasons: string[] = [];
  if (!principal.scopes.has(tool.scope)) reasons.push(`lacks the scope ${tool.scope}`);
  const decision = rules.decide(tool, callArgs, principal, values.transport ?? 'http', at);
  if (!decision.allowed)
    reasons.push(decision.rules.length ? `forbidden by ${decision.rules.join(', ')}` : 'no rule permits it');
  const allowed = reasons.length === 0;
  const answer = {
    decision: allowed ? 'allow' : 'deny',
    tool: tool.name,
    principal: principal.id,
    reasons: allowed ? [`permitted by ${decision.rules.join(', ')}`] : reasons,
    ...(decision.errors.length ? { errors: decision.errors } : {}),
  };
  return { code: 0, stdout: `${JSON.stringify(answer)}\n` };
}
