/**
 * How a tool call looks to Cedar, generated from the definitions so the schema and the requests can
 * never drift apart. Namespace `Gatehouse`:
 * - principal `Gatehouse::User::"<id>"` — `subject`, `kind`, `scopes` and `groups` (sets of strings);
 * - action `Gatehouse::Action::"<tool>"`, a member of its effect group `Action::"read" | "write" | "destructive"`;
 * - resource `Gatehouse::Target::"<target>"` — the target the definition declares (`target`,
 *   `environment`) and the tool's declared arguments of simple types (strings, integers, booleans),
 *   every attribute optional (test with `has`);
 * - context — `now` (ISO-8601 UTC), `hour`, `minute`, `weekday` (0 = Sunday, UTC) and `transport`.
 */
import type { z } from 'zod';
import type { AnyTool } from '../define/define.ts';
import type { Principal } from './policy.ts';

const NS = 'Gatehouse';
const EFFECTS = ['read', 'write', 'destructive'] as const;
type CedarType = 'String' | 'Long' | 'Boolean';

/** The Cedar type of a zod field, when it has one we pass on. */
function cedarTypeOf(field: z.ZodType): CedarType | undefined {
  let t = field as unknown as { def: { type: string; innerType?: unknown; checks?: unknown[] } };
  while (['optional', 'default', 'nullable', 'readonly', 'prefault'].includes(t.def.type))
    t = t.def.innerType as typeof t;
  if (t.def.type === 'string' || t.def.type === 'enum') return 'String';
  if (t.def.type === 'boolean') return 'Boolean';
  if (t.def.type === 'number') {
    const integer = (t.def.checks ?? []).some((c) =>
      /int/.test(String((c as { _zod?: { def?: { format?: string } } })._zod?.def?.format)),
    );
    return integer ? 'Long' : undefined;
  }
  return undefined;
}

/** Argument names and their Cedar types across all tools; a name typed two ways is left out. */
function argumentTypes(tools: readonly AnyTool[]): Map<string, CedarType> {
  const types = new Map<string, CedarType>();
  const clashing = new Set<string>(['target', 'environment']);
  for (const tool of tools)
    for (const [name, field] of Object.entries(tool.input.shape as Record<string, z.ZodType>)) {
      const type = cedarTypeOf(field);
      if (!type || clashing.has(name)) continue;
      if (types.has(name) && types.get(name) !== type) {
        types.delete(name);
        clashing.add(name);
      } else types.set(name, type);
    }
  return types;
}

const attr = (type: string, extra: Record<string, unknown> = {}) => ({ type, ...extra });

/** The Cedar schema (JSON form) for these tools. */
export function cedarSchema(tools: readonly AnyTool[]) {
  const args = argumentTypes(tools);
  const targetAttributes: Record<string, unknown> = {
    target: attr('String', { required: false }),
    environment: attr('String', { required: false }),
  };
  for (const [name, type] of args) targetAttributes[name] = attr(type, { required: false });
  const appliesTo = {
    principalTypes: ['User'],
    resourceTypes: ['Target'],
    context: {
      type: 'Record',
      attributes: {
        now: attr('String'),
        hour: attr('Long'),
        minute: attr('Long'),
        weekday: attr('Long'),
        transport: attr('String'),
      },
    },
  };
  const actions: Record<string, unknown> = Object.fromEntries(EFFECTS.map((e) => [e, {}]));
  for (const tool of tools) actions[tool.name] = { appliesTo, memberOf: [{ id: tool.effect }] };
  return {
    [NS]: {
      entityTypes: {
        User: {
          shape: {
            type: 'Record',
            attributes: {
              subject: attr('String'),
              kind: attr('String'),
              scopes: { type: 'Set', element: attr('String') },
              groups: { type: 'Set', element: attr('String') },
            },
          },
        },
        Target: { shape: { type: 'Record', attributes: targetAttributes } },
      },
      actions,
    },
  };
}

export const userUid = (principal: Principal) => ({ type: `${NS}::User`, id: principal.id });
export const actionUid = (tool: string) => ({ type: `${NS}::Action`, id: tool });

export function userEntity(principal: Principal) {
  return {
    uid: userUid(principal),
    attrs: {
      subject: principal.id,
      kind: principal.kind,
      scopes: [...principal.scopes],
      groups: [...(principal.groups ?? [])],
    },
    parents: [],
  };
}

/** The resource of one call: what the definition says it targets, and its simple arguments. */
export function targetEntity(tool: AnyTool, args: Record<string, unknown>, types: Map<string, CedarType>) {
  const attrs: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(args)) {
    const type = types.get(name);
    if (
      (type === 'String' && typeof value === 'string') ||
      (type === 'Boolean' && typeof value === 'boolean') ||
      (type === 'Long' && Number.isSafeInteger(value))
    )
      attrs[name] = value;
  }
  const declared = tool.target?.(args);
  if (declared) {
    attrs.target = declared.target;
    if (declared.environment !== undefined) attrs.environment = declared.environment;
  }
  return { uid: { type: `${NS}::Target`, id: declared?.target ?? tool.name }, attrs, parents: [] };
}

export function requestContext(transport: string, at = new Date()) {
  return {
    now: at.toISOString(),
    hour: at.getUTCHours(),
    minute: at.getUTCMinutes(),
    weekday: at.getUTCDay(),
    transport,
  };
}

export { argumentTypes };
