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
 * Application logs: JSON to stderr (fd 2) only, since stdout carries JSON-RPC
 * in stdio mode. Synchronous so a crash never loses the last line.
 */
export function createLogger(options: { name: string; level: string; destination?: pino.DestinationStream }): Logger {
  return pino(
    {
      name: options.name,
      level: options.level,
      redact: { paths: redactPaths, censor: '[REDACTED]' },
      base: { pid: process.pid },
    },
    options.destination ?? pino.destination({ fd: 2, sync: true }),
  );
}
