import type { StandardSchemaWithJSON } from '@modelcontextprotocol/server';
import { z } from 'zod';
import { hasControlCharacters } from './text.ts';

/**
 * Lean JSON Schema for the wire: no `$schema` (it costs tokens in every
 * tools/list and tells a model nothing).
 */
export function jsonSchemaOf(schema: z.ZodType, io: 'input' | 'output'): Record<string, unknown> {
  const { $schema: _ignored, ...rest } = z.toJSONSchema(schema, {
    target: 'draft-2020-12',
    io,
    unrepresentable: 'any',
  }) as Record<string, unknown>;
  return io === 'output' ? (withoutClosedObjects(rest) as Record<string, unknown>) : rest;
}

/**
 * Output schemas describe what the server sends; `additionalProperties: false`
 * on every object tells a model nothing and costs tokens in each tools/list.
 */
function withoutClosedObjects(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(withoutClosedObjects);
  if (!node || typeof node !== 'object') return node;
  return Object.fromEntries(
    Object.entries(node)
      .filter(([key, value]) => !(key === 'additionalProperties' && value === false))
      .map(([key, value]) => [key, withoutClosedObjects(value)]),
  );
}

/**
 * Advertises a schema's JSON form to the SDK while leaving validation to the
 * registration seam, which answers bad input with a typed INVALID_ARGUMENT
 * error and an audit record instead of the SDK's code-less text. Computed
 * once, so per-request server instances stay cheap.
 */
export function advertise(
  schema: z.ZodType,
  io: 'input' | 'output',
  json: Record<string, unknown> = jsonSchemaOf(schema, io),
): StandardSchemaWithJSON {
  return {
    '~standard': {
      version: 1,
      vendor: 'gatehouse',
      validate: (value: unknown) => ({ value }),
      jsonSchema: { input: () => json, output: () => json },
    },
  } as unknown as StandardSchemaWithJSON;
}

/** A readable one-line summary of zod issues, naming each field. */
export function describeIssues(error: z.ZodError, limit = 5): string {
  return error.issues
    .slice(0, limit)
    .map((issue) => `${issue.path.length ? issue.path.join('.') : '(arguments)'}: ${issue.message}`)
    .join('; ');
}

/** Bounded identifier: the shape every id or name argument should have. */
export const identifier = (description: string, max = 128) =>
  z
    .string()
    .min(1)
    .max(max)
    .regex(/^[A-Za-z0-9][A-Za-z0-9._:-]*$/, 'letters, digits and . _ : - only')
    .describe(description);

/** Bounded free text with no control characters. */
export const boundedText = (description: string, max: number) =>
  z
    .string()
    .max(max)
    .refine((s) => !hasControlCharacters(s), 'must not contain control characters')
    .describe(description);
