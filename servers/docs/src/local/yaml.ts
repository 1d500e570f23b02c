import { createRequire } from 'node:module';

export type Yaml = typeof import('yaml');
let yamlModule: Yaml | undefined;
/**
 * `yaml` takes tens of milliseconds to load, so it is loaded on first use
 * (the first front matter or catalog file parsed), never at start-up:
 * initialize and tools/list do not need it.
 */
export const yaml = (): Yaml => {
  yamlModule ??= createRequire(import.meta.url)('yaml') as Yaml;
  return yamlModule;
};

/** A YAML list or a comma-separated string as a bounded list of distinct, trimmed strings. */
export function stringList(value: unknown, max = 30): string[] {
  const items = Array.isArray(value) ? value : typeof value === 'string' ? value.split(',') : [];
  return [
    ...new Set(
      items
        .filter((v) => typeof v === 'string' || typeof v === 'number')
        .map((v) => String(v).trim())
        .filter(Boolean),
    ),
  ]
    .map((v) => v.slice(0, 80))
    .slice(0, max);
}
