import { maskPii } from '../define/pii.ts';
import { SECRET_KEYS } from '../telemetry/logger.ts';

const SECRET_KEY_SET = new Set<string>(SECRET_KEYS.map((k) => k.toLowerCase()));

/** Replaces secrets and fields a tool marks sensitive; masks personal data in everything else. */
export function redactArgs(args: unknown, sensitive: readonly string[] = []): unknown {
  const hidden = new Set(sensitive.map((k) => k.toLowerCase()));
  const walk = (value: unknown): unknown => {
    if (Array.isArray(value)) return value.map(walk);
    if (value && typeof value === 'object') {
      return Object.fromEntries(
        Object.entries(value).map(([k, v]) => [
          k,
          SECRET_KEY_SET.has(k.toLowerCase()) || hidden.has(k.toLowerCase()) ? '[REDACTED]' : walk(v),
        ]),
      );
    }
    if (typeof value === 'string')
      return maskPii(value.length > 512 ? `${value.slice(0, 512)}…[${value.length} chars]` : value);
    return value;
  };
  return walk(args);
}
