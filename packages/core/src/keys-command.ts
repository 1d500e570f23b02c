/**
 * `<bin> keys new api-key|state-key|audit-key|metrics-token`: makes an operator secret, prints it
 * once with where it goes, and keeps nothing. For an API key it also prints the entry for the keys
 * file (`<P>_API_KEYS_FILE`), which holds the key's SHA-256 only: the same digest the server checks
 * a presented key against. Exit 0, or 2 with one line for a usage mistake.
 */
import { randomBytes } from 'node:crypto';
import { parseArgs } from 'node:util';
import { ApiKeysFile } from './http/settings.ts';

const KINDS = ['api-key', 'state-key', 'audit-key', 'metrics-token'] as const;
type Kind = (typeof KINDS)[number];

export const KEYS_USAGE = `keys new ${KINDS.join('|')} [--name NAME] [--scopes S1,S2]`;

export type KeysOutcome = { code: 0; stdout: string } | { code: 2; error: string };

export interface KeysTarget {
  /** Variable prefix, e.g. PLATFORM_OPS. */
  prefix: string;
  /** The server's name (its default scope is `<name>:read`). */
  server: string;
  /** The scopes the server knows, to refuse a mistyped one. */
  scopes: readonly string[];
}

/** 32 random bytes, base64url: 43 characters, more than every minimum the server sets. */
const secret = () => randomBytes(32).toString('base64url');

function variableSecret(target: KeysTarget, kind: Exclude<Kind, 'api-key'>): string {
  const value = secret();
  const name = `${target.prefix}_${kind === 'state-key' ? 'STATE_KEY' : kind === 'audit-key' ? 'AUDIT_KEY' : 'METRICS_TOKEN'}`;
  const where = {
    'state-key':
      'Give every replica the same value: it seals approvals and 2026 multi-round requests, so any replica can finish what another began.',
    'audit-key':
      'It keys the HMAC chain of the audit trail; keep it apart from the audit file, and give it to verify-audit when checking the trail.',
    'metrics-token': `/metrics then answers only a request with the header "Authorization: Bearer <token>" (Prometheus: authorization.credentials_file).`,
  }[kind];
  return [
    `${name}=${value}`,
    '',
    `Set it in the server's environment (or put the value in a file and set ${name}_FILE to its path).`,
    where,
    'It is shown once and stored nowhere.',
    '',
  ].join('\n');
}

async function apiKey(target: KeysTarget, name: string, scopes: string[]): Promise<KeysOutcome> {
  const unknown = scopes.find((scope) => !target.scopes.includes(scope));
  if (unknown !== undefined)
    return {
      code: 2,
      error: `keys new api-key: unknown scope ${JSON.stringify(unknown)} (this server knows ${target.scopes.join(', ')})`,
    };
  // The digest the server checks a presented key against (loaded here: it brings the JWT code along).
  const { apiKeyDigest } = await import('./http/auth.ts');
  const key = `gh_${secret()}`;
  const entry = { name, sha256: apiKeyDigest(key).toString('hex'), scopes };
  const checked = ApiKeysFile.safeParse([entry]);
  if (!checked.success) {
    const issue = checked.error.issues[0];
    return {
      code: 2,
      error: `keys new api-key: ${issue?.path.at(-1) === 'name' ? `--name ${JSON.stringify(name)} must be 1-64 of A-Z a-z 0-9 _ . @ -` : (issue?.message ?? 'invalid entry')}`,
    };
  }
  return {
    code: 0,
    stdout: [
      `API key for ${name} (scopes: ${scopes.join(' ')}); shown once, give it to the client:`,
      key,
      '',
      `Add this entry to the JSON array in the file ${target.prefix}_API_KEYS_FILE names (it holds the SHA-256 only):`,
      JSON.stringify(entry),
      '',
      'The client sends it as the header "Authorization: Bearer <key>".',
      '',
    ].join('\n'),
  };
}

/** Runs the command; never exits the process (the runner prints and exits). */
export async function keysCommand(target: KeysTarget, args: string[]): Promise<KeysOutcome> {
  let parsed: ReturnType<typeof parseArgs<{ options: typeof OPTIONS; allowPositionals: true }>>;
  const OPTIONS = { name: { type: 'string' }, scopes: { type: 'string' } } as const;
  try {
    parsed = parseArgs({ args, options: OPTIONS, allowPositionals: true, strict: true });
  } catch (error) {
    return { code: 2, error: `keys: ${(error as Error).message}` };
  }
  const [verb, kind, ...extra] = parsed.positionals;
  if (verb !== 'new' || kind === undefined || extra.length > 0)
    return { code: 2, error: `usage: ${KEYS_USAGE}` };
  if (!(KINDS as readonly string[]).includes(kind))
    return { code: 2, error: `keys new: unknown kind ${JSON.stringify(kind)}; one of ${KINDS.join(', ')}` };
  const { name, scopes } = parsed.values;
  if (kind !== 'api-key') {
    if (name !== undefined || scopes !== undefined)
      return { code: 2, error: `keys new ${kind}: --name and --scopes are for api-key only` };
    return { code: 0, stdout: variableSecret(target, kind as Exclude<Kind, 'api-key'>) };
  }
  const list = (scopes ?? `${target.server}:read`)
    .split(',')
    .map((scope) => scope.trim())
    .filter(Boolean);
  if (list.length === 0) return { code: 2, error: 'keys new api-key: --scopes names no scope' };
  return apiKey(target, name ?? 'client', list);
}
