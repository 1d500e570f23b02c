import { ConfigError } from './env.ts';

/** Edit distance between two short names (insertions, deletions, substitutions). */
function distance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++)
      current[j] = Math.min(
        (previous[j] ?? 0) + 1,
        (current[j - 1] ?? 0) + 1,
        (previous[j - 1] ?? 0) + (a[i - 1] === b[j - 1] ? 0 : 1),
      );
    previous = current;
  }
  return previous[b.length] ?? 0;
}

/** The valid value nearest to a mistyped one. */
export function closest(name: string, valid: readonly string[]): string | undefined {
  let best: { value: string; d: number } | undefined;
  for (const value of valid) {
    const d = distance(name.toLowerCase(), value.toLowerCase());
    if (!best || d < best.d) best = { value, d };
  }
  return best?.value;
}

/**
 * Refuses a configuration that names something that does not exist — a tool in
 * an allow or deny list, a scope, a toolset — with one line naming the nearest valid
 * value. A mistyped deny list would otherwise fail open.
 */
export function assertKnownNames(
  variable: string,
  what: 'tool' | 'scope' | 'toolset',
  given: readonly string[],
  valid: readonly string[],
): void {
  const known = new Set(valid);
  const unknown = given.find((name) => !known.has(name));
  if (unknown === undefined) return;
  const near = closest(unknown, valid);
  throw new ConfigError(
    `${variable} names an unknown ${what} ${JSON.stringify(unknown)}${near ? ` (did you mean ${JSON.stringify(near)}?)` : ''}; valid: ${valid.join(', ')}`,
  );
}
