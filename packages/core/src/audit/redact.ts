import { maskPii } from '../define/pii.ts';
import { SECRET_KEYS } from '../telemetry/logger.ts';

const SECRET_KEY_SET = new Set<string>(SECRET_KEYS.map((k) => k.toLowerCase()));

/**
 * How deep and how many values of the arguments the trail keeps. The seam
 * refuses arguments past its own, lower limits and records a summary instead,
 * so these only bound what other writers pass (an unknown tool's raw
 * arguments): what lies beyond is written as `TRUNCATED`.
 */
export const MAX_REDACTED_DEPTH = 64;
export const MAX_REDACTED_VALUES = 10_000;
export const TRUNCATED = '[…truncated]';

const bounded = (value: string) =>
  maskPii(value.length > 512 ? `${value.slice(0, 512)}…[${value.length} chars]` : value);

/** Sets a member as `Object.fromEntries` does (an own `__proto__` key stays a plain member). */
function put(target: Record<string, unknown> | unknown[], key: string | number, value: unknown): void {
  Object.defineProperty(target, key, { value, writable: true, enumerable: true, configurable: true });
}

/**
 * Replaces secrets and fields a tool marks sensitive; masks personal data in
 * everything else; bounds long strings, depth and size. Iterative: arguments
 * nested thousands of levels deep never reach the call stack.
 */
export function redactArgs(args: unknown, sensitive: readonly string[] = []): unknown {
  const hidden = new Set(sensitive.map((k) => k.toLowerCase()));
  const concealed = (key: string) => SECRET_KEY_SET.has(key.toLowerCase()) || hidden.has(key.toLowerCase());
  let budget = MAX_REDACTED_VALUES;
  // A copy's shell, filled when its turn comes; what the walk will fill next.
  const shell = (value: object): Record<string, unknown> | unknown[] =>
    Array.isArray(value) ? new Array(value.length) : {};
  const pending: Array<[source: object, target: Record<string, unknown> | unknown[], depth: number]> = [];
  const copy = (value: unknown, depth: number): unknown => {
    if (typeof value === 'string') return bounded(value);
    if (!value || typeof value !== 'object') return value;
    if (depth > MAX_REDACTED_DEPTH || budget <= 0) return TRUNCATED;
    const target = shell(value);
    pending.push([value, target, depth]);
    return target;
  };
  const root = copy(args, 1);
  while (pending.length > 0) {
    const [source, target, depth] = pending.pop()!;
    if (Array.isArray(source)) {
      const list = target as unknown[];
      for (let i = 0; i < source.length; i++) {
        // Past the budget the copy ends here, marked; holes stay holes, as `map` leaves them.
        if (budget <= 0) {
          list.length = i;
          list.push(TRUNCATED);
          break;
        }
        if (!(i in source)) continue;
        budget -= 1;
        list[i] = copy(source[i], depth + 1);
      }
      continue;
    }
    for (const [key, value] of Object.entries(source)) {
      if (budget <= 0) {
        put(target, '…', TRUNCATED);
        break;
      }
      budget -= 1;
      put(target, key, concealed(key) ? '[REDACTED]' : copy(value, depth + 1));
    }
  }
  return root;
}
