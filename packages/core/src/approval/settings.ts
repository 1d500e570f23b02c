/**
 * The out-of-band approval settings (HTTP transport only), under the server's
 * prefix: where approvals are kept, how long a request waits for its decision,
 * who signs approvers in, the webhook, and the four-eyes rules.
 */
import { z } from 'zod';
import { ConfigError, envInt, envText } from '../config/env.ts';
import { assertKnownNames } from '../config/names.ts';

/**
 * One four-eyes rule: calls of `tool` (in one of `environments`, when given; with
 * `atLeast` numeric arguments at or above the bounds, when given) need `approvals`
 * approvers other than the requester, each holding `<server>:approve`.
 */
export const FourEyesRule = z.strictObject({
  tool: z.string().min(1).max(64),
  environments: z.array(z.string().min(1).max(64)).min(1).max(32).optional(),
  atLeast: z.record(z.string().min(1).max(64), z.number()).optional(),
  approvals: z.number().int().min(1).max(5).default(1),
});
export type FourEyesRule = z.infer<typeof FourEyesRule>;

export function approvalEnvShape(prefix: string) {
  return {
    [`${prefix}_APPROVAL_STORE`]: z
      .string()
      .regex(/^(sqlite:|postgres(ql)?:\/\/)/, 'must be sqlite:<path> or postgres://…')
      .default('sqlite::memory:')
      .describe(
        'Where pending approvals, decisions and spent approvals are kept: `sqlite:FILE` (one replica; default `sqlite::memory:`) or `postgres://…` (replicas)',
      ),
    [`${prefix}_APPROVAL_PENDING_S`]: envInt(900, 60, 86_400).describe(
      'Seconds an out-of-band approval waits for its decision (and an approved one for its call)',
    ),
    [`${prefix}_APPROVAL_CLIENT_ID`]: envText(1).describe(
      'OAuth client id of the approval page (code flow with PKCE at the configured issuer; redirect URI <origin>/approvals/callback)',
    ),
    [`${prefix}_APPROVAL_CLIENT_SECRET`]: envText(1).describe(
      'Its client secret, when it is a confidential client',
    ),
    [`${prefix}_APPROVAL_WEBHOOK_URL`]: z
      .url({ protocol: /^https?$/ })
      .optional()
      .describe('Receives pending and decided approvals as JSON, signed with HMAC-SHA256'),
    [`${prefix}_APPROVAL_WEBHOOK_SECRET`]: envText(16).describe(
      'Key of the webhook signature header X-Gatehouse-Signature (16+ characters)',
    ),
    [`${prefix}_FOUR_EYES`]: envText(2).describe(
      'JSON list of four-eyes rules `[{tool, environments?, atLeast?, approvals?}]`: approvers other than the requester, holding the `approve` scope of this server',
    ),
  };
}

export interface ApprovalSettings {
  store: string;
  pendingSeconds: number;
  clientId: string | undefined;
  clientSecret: string | undefined;
  webhook: { url: string; secret: string } | undefined;
  fourEyes: FourEyesRule[];
}

/** Reads the parsed approval variables; every problem is one ConfigError line. */
export function approvalSettings(prefix: string, d: Record<string, unknown>): ApprovalSettings {
  const v = <T>(name: string) => d[`${prefix}_${name}`] as T;
  const url = v<string | undefined>('APPROVAL_WEBHOOK_URL');
  const secret = v<string | undefined>('APPROVAL_WEBHOOK_SECRET');
  if ((url === undefined) !== (secret === undefined))
    throw new ConfigError(
      `${prefix}_APPROVAL_WEBHOOK_URL and ${prefix}_APPROVAL_WEBHOOK_SECRET go together: set both or neither`,
    );
  const raw = v<string | undefined>('FOUR_EYES');
  let fourEyes: FourEyesRule[] = [];
  if (raw !== undefined) {
    let json: unknown;
    try {
      json = JSON.parse(raw);
    } catch {
      throw new ConfigError(`${prefix}_FOUR_EYES is invalid: not JSON`);
    }
    const parsed = z.array(FourEyesRule).max(100).safeParse(json);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      throw new ConfigError(
        `${prefix}_FOUR_EYES is invalid: ${issue?.path.join('.')} ${issue?.message}`.trim(),
      );
    }
    fourEyes = parsed.data;
  }
  return {
    store: v<string>('APPROVAL_STORE'),
    pendingSeconds: v<number>('APPROVAL_PENDING_S'),
    clientId: v<string | undefined>('APPROVAL_CLIENT_ID'),
    clientSecret: v<string | undefined>('APPROVAL_CLIENT_SECRET'),
    webhook: url && secret ? { url, secret } : undefined,
    fourEyes,
  };
}

/**
 * Four-eyes rules must name tools that need approval, and `atLeast` arguments those
 * tools take: a mistyped name would fail open.
 */
export function assertRuleNames(
  prefix: string,
  rules: readonly FourEyesRule[],
  tools: ReadonlyMap<string, readonly string[]>,
): void {
  const variable = `${prefix}_FOUR_EYES`;
  assertKnownNames(
    variable,
    'tool',
    rules.map((r) => r.tool),
    [...tools.keys()],
  );
  for (const rule of rules)
    for (const name of Object.keys(rule.atLeast ?? {}))
      if (!tools.get(rule.tool)?.includes(name))
        throw new ConfigError(
          `${variable} names an unknown argument ${JSON.stringify(name)} of ${rule.tool}; valid: ${tools.get(rule.tool)?.join(', ')}`,
        );
}

/** The rule that applies to this call, if any. */
export function ruleFor(
  rules: readonly FourEyesRule[],
  tool: string,
  args: Record<string, unknown>,
  environment: string | undefined,
): FourEyesRule | undefined {
  return rules.find(
    (rule) =>
      rule.tool === tool &&
      (!rule.environments || (environment !== undefined && rule.environments.includes(environment))) &&
      Object.entries(rule.atLeast ?? {}).every(([name, bound]) => {
        const value = args[name];
        return typeof value === 'number' && value >= bound;
      }),
  );
}
