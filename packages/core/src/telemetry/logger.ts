import { pino } from 'pino';

export type Logger = pino.Logger;

/** Field names whose values never reach a log line, wherever they appear. */
export const SECRET_KEYS = [
  'authorization',
  'Authorization',
  'token',
  'accessToken',
  'access_token',
  'apiKey',
  'api_key',
  'password',
  'secret',
  'cookie',
  'approval_token',
] as const;

const redactPaths = SECRET_KEYS.flatMap((key) => [key, `*.${key}`, `*.*.${key}`, `headers.${key}`]);

/**
 * Replaces known secret values (this server's upstream token, keys) wherever
 * they appear in a serialised line — also inside arguments a caller pasted them into.
 */
export function secretScrubber(secrets: ReadonlyArray<string | undefined>): (line: string) => string {
  const values = [...new Set(secrets.filter((s): s is string => typeof s === 'string' && s.length >= 8))];
  if (values.length === 0) return (line) => line;
  return (line) => {
    let out = line;
    for (const value of values) if (out.includes(value)) out = out.replaceAll(value, '[REDACTED]');
    return out;
  };
}

/**
 * Application logs: JSON to stderr (fd 2) only, since stdout carries JSON-RPC
 * in stdio mode. Synchronous so a crash never loses the last line.
 */
export function createLogger(options: {
  name: string;
  level: string;
  destination?: pino.DestinationStream;
  scrub?: (line: string) => string;
}): Logger {
  return pino(
    {
      name: options.name,
      level: options.level,
      ...(options.scrub ? { hooks: { streamWrite: options.scrub } } : {}),
      redact: { paths: redactPaths, censor: '[REDACTED]' },
      base: { pid: process.pid },
    },
    options.destination ?? pino.destination({ fd: 2, sync: true }),
  );
}

/**
 * Builds access lines for server `name`: each the line `pino({ name, base: { pid } })
 * .child({ component: "http" }).info(fields, "http request")` writes, with one JSON.stringify.
 */
export function accessLine(name: string): (fields: Record<string, unknown>) => string {
  const bindings = `,"pid":${process.pid},"name":${JSON.stringify(name)},"component":"http"`;
  return (fields) => {
    const own = JSON.stringify(fields);
    const members = own.length > 2 ? `,${own.slice(1, -1)}` : '';
    return `{"level":30,"time":${Date.now()}${bindings}${members},"msg":"http request"}\n`;
  };
}

/**
 * The HTTP access log: one line per request with fields the HTTP front picks
 * (none secret), so it skips the redaction walk — and pino's per-line
 * machinery: the line is the one a pino child logger (`component: "http"`)
 * would write, built with one JSON.stringify. Lines are buffered up to
 * 4 KiB and written at least every 250 ms — a synchronous write per request
 * costs about as much as serving it — and on close or exit. Audit records
 * never take this path.
 */
export function createAccessLog(options: { name: string; level: string }): {
  /** Writes one `http request` line at info level (nothing when the level is above info). */
  request(fields: Record<string, unknown>): void;
  close(): void;
} {
  const stream = pino.destination({ fd: 2, sync: true, minLength: 4096 });
  const flush = () => {
    try {
      stream.flushSync();
    } catch {
      // A full pipe: the lines go out with the next flush.
    }
  };
  const timer = setInterval(flush, 250);
  timer.unref();
  process.once('exit', flush);
  const enabled = (pino.levels.values[options.level] ?? 30) <= 30;
  const line = accessLine(options.name);
  return {
    request(fields) {
      if (enabled) stream.write(line(fields));
    },
    close() {
      clearInterval(timer);
      flush();
    },
  };
}
