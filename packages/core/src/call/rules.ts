/**
 * Rules as code: a Cedar policy file (`<P>_POLICY_FILE`) narrows who may call which tool with which
 * arguments, after scopes, read-only and the allow/deny lists. Cedar (WebAssembly) is loaded only
 * when a policy file is configured. Like Cedar itself the file denies what no `permit` allows.
 * On listing a tool is hidden only when the rules deny it whatever its arguments (partial evaluation
 * with the resource unknown); at call time the arguments are known and decide. A refusal names the
 * rule (`@id("…")`, else `policyN`); the SHA-256 of the file goes into every audit record.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { ConfigError } from '../config/env.ts';
import type { AnyTool } from '../define/define.ts';
import { GatehouseError } from '../define/errors.ts';
import { type Principal, transportOf } from './policy.ts';
import {
  actionUid,
  argumentTypes,
  cedarSchema,
  requestContext,
  targetEntity,
  userEntity,
  userUid,
} from './rules-model.ts';

type Cedar = typeof import('@cedar-policy/cedar-wasm/nodejs');
interface CedarError {
  message: string;
  help?: string | null;
  sourceLocations?: Array<{ start: number }>;
}

export interface Decision {
  allowed: boolean;
  /** The rules that decided: the forbids that matched on a denial, the permits on an allow. */
  rules: string[];
  /** Rules that failed to evaluate (treated by Cedar as not applying). */
  errors: string[];
}

let loaded: Promise<Cedar> | undefined;
/** Cedar's WebAssembly build, loaded once and only when rules are configured. */
const loadCedar = (): Promise<Cedar> => {
  loaded ??= import('@cedar-policy/cedar-wasm/nodejs');
  return loaded;
};

/** `file:line:col` of a character offset. */
function where(file: string, text: string, offset: number | undefined): string {
  if (offset === undefined) return file;
  const before = text.slice(0, offset).split('\n');
  return `${file}:${before.length}:${(before.at(-1)?.length ?? 0) + 1}`;
}

const firstLine = (error: CedarError | undefined) =>
  `${error?.message ?? 'invalid policy'}${error?.help ? ` (${error.help})` : ''}`.split('\n')[0];

/** Splits and names the policies; a problem is thrown as one ConfigError line naming the location. */
function parsePolicies(cedar: Cedar, text: string, file: string): Record<string, string> {
  const parts = cedar.policySetTextToParts(text);
  if (parts.type === 'failure') {
    const error = parts.errors[0] as CedarError | undefined;
    throw new ConfigError(`${where(file, text, error?.sourceLocations?.[0]?.start)}: ${firstLine(error)}`);
  }
  if (parts.policy_templates.length > 0)
    throw new ConfigError(`${file}: policy templates are not supported; write static policies`);
  const policies: Record<string, string> = {};
  let searchFrom = 0;
  parts.policies.forEach((policy, i) => {
    const at = text.indexOf(policy.slice(0, 40), searchFrom);
    if (at >= 0) searchFrom = at + 1;
    const json = cedar.policyToJson(policy);
    const id = json.type === 'success' ? (json.json.annotations?.id ?? `policy${i}`) : `policy${i}`;
    if (policies[id] !== undefined)
      throw new ConfigError(`${where(file, text, at)}: two policies have the @id ${JSON.stringify(id)}`);
    policies[id] = policy;
  });
  return policies;
}

/** Checks the policies against the schema of these tools: the first problem as one line, or none. */
function validationProblem(
  cedar: Cedar,
  policies: Record<string, string>,
  tools: readonly AnyTool[],
  file: string,
): string | undefined {
  const answer = cedar.validate({
    schema: cedarSchema(tools) as never,
    policies: { staticPolicies: policies },
  });
  if (answer.type === 'failure') return `${file}: ${firstLine(answer.errors[0] as CedarError)}`;
  const [first] = answer.validationErrors;
  if (!first) return undefined;
  return `${file}: policy ${JSON.stringify(first.policyId)}: ${firstLine(first.error as CedarError)}`;
}

export class Rules {
  readonly hash: string;
  private readonly cedar: Cedar;
  private readonly policies: Record<string, string>;
  private readonly schema: ReturnType<typeof cedarSchema>;
  private readonly types: ReturnType<typeof argumentTypes>;
  private readonly setId: string;

  private constructor(
    cedar: Cedar,
    policies: Record<string, string>,
    tools: readonly AnyTool[],
    hash: string,
  ) {
    this.cedar = cedar;
    this.policies = policies;
    this.schema = cedarSchema(tools);
    this.types = argumentTypes(tools);
    this.hash = hash;
    this.setId = `gatehouse-${hash}`;
    cedar.preparsePolicySet(this.setId, { staticPolicies: policies });
    cedar.preparseSchema(this.setId, this.schema as never);
  }

  /** Reads, parses and validates the file; any problem is one ConfigError line naming the location. */
  static async load(file: string, tools: readonly AnyTool[], variable: string): Promise<Rules> {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (error) {
      throw new ConfigError(`${variable}: cannot read ${file} (${(error as NodeJS.ErrnoException).code})`);
    }
    const cedar = await loadCedar();
    const policies = parsePolicies(cedar, text, file);
    const problem = validationProblem(cedar, policies, tools, file);
    if (problem) throw new ConfigError(problem);
    return new Rules(cedar, policies, tools, createHash('sha256').update(text).digest('hex'));
  }

  /** True when the rules deny `tool` to `principal` whatever its arguments. */
  hidden(tool: AnyTool, principal: Principal, transport: string): boolean {
    const answer = this.cedar.isAuthorizedPartial({
      principal: userUid(principal),
      action: actionUid(tool.name),
      resource: null,
      context: requestContext(transport),
      schema: this.schema as never,
      policies: { staticPolicies: this.policies },
      entities: [userEntity(principal) as never],
    });
    return answer.type === 'residuals' && answer.response.decision === 'deny';
  }

  /** The decision for one call with its validated arguments. */
  decide(
    tool: AnyTool,
    args: Record<string, unknown>,
    principal: Principal,
    transport: string,
    at = new Date(),
  ): Decision {
    const answer = this.cedar.statefulIsAuthorized({
      principal: userUid(principal),
      action: actionUid(tool.name),
      resource: targetEntity(tool, args, this.types).uid,
      context: requestContext(transport, at),
      preparsedPolicySetId: this.setId,
      preparsedSchemaName: this.setId,
      validateRequest: false,
      entities: [userEntity(principal), targetEntity(tool, args, this.types)] as never,
    });
    if (answer.type === 'failure')
      return { allowed: false, rules: [], errors: answer.errors.map((e) => e.message.split('\n')[0]!) };
    const { decision, diagnostics } = answer.response;
    return {
      allowed: decision === 'allow',
      rules: diagnostics.reason,
      errors: diagnostics.errors.map((e) => e.policyId),
    };
  }

  /** The call stage: a denial is DENIED naming the rule; nothing else happens. */
  check(call: {
    prepared: { tool: AnyTool };
    args: Record<string, unknown>;
    principal: Principal;
  }): undefined {
    const { tool } = call.prepared;
    const decision = this.decide(tool, call.args, call.principal, transportOf(call.principal));
    if (decision.allowed) return undefined;
    const named = decision.rules.length
      ? `the rule ${decision.rules.map((r) => JSON.stringify(r)).join(', ')} forbids`
      : 'no rule permits';
    throw new GatehouseError(
      'DENIED',
      `${tool.name}: ${named} this call by this caller with these arguments at this time. Do not retry unchanged; ask the operator if it should be allowed.`,
      { details: { rules: decision.rules, policy: this.hash.slice(0, 16) } },
    );
  }
}
