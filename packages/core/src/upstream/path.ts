import { GatehouseError } from '../define/errors.ts';
import { rememberRoute } from '../telemetry/tracing.ts';

export type Query = Record<string, string | number | boolean | undefined | null>;

/**
 * Builds an upstream path from a template, encoding every interpolated segment
 * and refusing `.` and `..`, so an id supplied by a model can never change
 * which endpoint is called: apiPath`/v1/services/${name}/health`.
 */
export function apiPath(strings: TemplateStringsArray, ...segments: ReadonlyArray<string | number>): string {
  let out = strings[0] ?? '';
  segments.forEach((segment, i) => {
    const text = String(segment);
    if (text === '' || text === '.' || text === '..') {
      throw new GatehouseError('INVALID_ARGUMENT', `${JSON.stringify(text)} is not a valid identifier.`);
    }
    out += encodeURIComponent(text) + (strings[i + 1] ?? '');
  });
  rememberRoute(out, strings.join('{}'));
  return out;
}

/** A query without its unset values, every value as a string. */
export function cleanQuery(query: Query | undefined): Record<string, string> | undefined {
  if (!query) return undefined;
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(query))
    if (value !== undefined && value !== null) out[key] = String(value);
  return out;
}
