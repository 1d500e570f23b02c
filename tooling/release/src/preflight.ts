/**
 * What `pnpm release` checks before anything else, each in seconds and each failing with one line:
 * the registry the `@gatehouse` scope resolves to (from npm configuration: `.npmrc`, or
 * `npm_config_@gatehouse:registry`), that it answers `npm ping`, and that the configured token is
 * accepted there (`npm whoami`). A release that would publish to the wrong place, or fail at its last
 * step for want of a login, stops before it versions, builds or tests anything.
 */
import { execFile } from 'node:child_process';

const SCOPE = '@gatehouse';
/** Each npm call is bounded: one attempt, a short request timeout, and a hard stop after this. */
const CALL_TIMEOUT_MS = 45_000;
const NPM_FLAGS = ['--fetch-retries=0', '--fetch-timeout=30000', '--no-update-notifier'];

export class PreflightError extends Error {}

interface Outcome {
  ok: boolean;
  stdout: string;
  stderr: string;
  /** Stopped at CALL_TIMEOUT_MS. */
  timedOut: boolean;
}

function npm(args: string[], cwd: string): Promise<Outcome> {
  return new Promise((resolve) => {
    execFile(
      'npm',
      [...args, ...NPM_FLAGS],
      { cwd, encoding: 'utf8', timeout: CALL_TIMEOUT_MS, env: { ...process.env, NO_COLOR: '1' } },
      (error, stdout, stderr) =>
        resolve({
          ok: !error,
          stdout: stdout.trim(),
          stderr: stderr.trim(),
          timedOut: Boolean(error && (error as { killed?: boolean }).killed),
        }),
    );
  });
}

/** npm's own reason, one line: the `npm error code …` and the first message after it. */
function npmReason({ stderr, timedOut }: Outcome): string {
  if (timedOut) return `no answer within ${CALL_TIMEOUT_MS / 1000} s`;
  const lines = stderr
    .split('\n')
    .filter((l) => /^npm (error|ERR!)/.test(l))
    .map((l) => l.replace(/^npm (error|ERR!)\s*/, '').trim())
    .filter((l) => l && !/^(A complete log|Log files|\d{4}-\d\d-\d\dT)/.test(l));
  const code = lines.find((l) => l.startsWith('code '))?.slice(5);
  const message =
    lines.find((l) => !/^(code|errno|syscall) /.test(l)) ?? stderr.split('\n').at(-1) ?? 'no answer';
  return code ? `${code}: ${message}` : message;
}

const configValue = (text: string) => (text && text !== 'undefined' && text !== 'null' ? text : undefined);
const withSlash = (url: string) => (url.endsWith('/') ? url : `${url}/`);

export interface PreflightResult {
  registry: string;
  user: string;
}

/** The three checks, in order; the first that fails throws a PreflightError holding one line. */
export async function preflight(
  root: string,
  say: (line: string) => void = () => {},
): Promise<PreflightResult> {
  const [scope, fallbackRegistry] = await Promise.all([
    npm(['config', 'get', `${SCOPE}:registry`], root),
    npm(['config', 'get', 'registry'], root),
  ]);
  const scoped = configValue(scope.stdout);
  const fallback = configValue(fallbackRegistry.stdout);
  if (!scoped)
    throw new PreflightError(
      `${SCOPE}:registry is not set, so ${SCOPE} packages would go to ${fallback ?? 'the default registry'}: add \`${SCOPE}:registry=<your registry>\` to .npmrc (or set npm_config_${SCOPE}:registry)`,
    );
  const registry = withSlash(scoped);
  say(`${SCOPE} resolves to ${registry}`);

  const ping = await npm(['ping', '--registry', registry], root);
  if (!ping.ok) throw new PreflightError(`registry ${registry} is not reachable: ${npmReason(ping)}`);
  say(`${registry} answers npm ping`);

  const whoami = await npm(['whoami', '--registry', registry], root);
  if (!whoami.ok || !whoami.stdout)
    throw new PreflightError(
      `no accepted token for ${registry} (npm whoami: ${npmReason(whoami)}): log in with \`npm login --registry ${registry}\` or set \`//${registry.replace(/^https?:\/\//, '')}:_authToken\` in .npmrc`,
    );
  say(`logged in to ${registry} as ${whoami.stdout}`);
  return { registry, user: whoami.stdout };
}
