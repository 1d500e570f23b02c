import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { accessLine } from './logger.ts';

describe('access log', () => {
  it('writes each request as the line a pino child logger wrote before it left the request path (time aside)', () => {
    let written = '';
    const logger = pino(
      { name: 'fixture "mcp"', level: 'info', base: { pid: process.pid } },
      {
        write: (line: string) => {
          written = line;
        },
      },
    ).child({ component: 'http' });
    const line = accessLine('fixture "mcp"');
    const untimed = (text: string) => text.replace(/"time":\d+/, '"time":0');
    for (const fields of [
      {
        reqId: 'r-1',
        method: 'POST',
        route: 'mcp',
        status: 200,
        ms: 3,
        ip: '127.0.0.1',
        principal: 'ci\n"bot"',
      },
      { reqId: 'r-2', method: undefined, route: 'ünï', status: 401, ms: 0, ip: '::1', reason: 'expired' },
      {},
    ]) {
      logger.info(fields, 'http request');
      expect(untimed(line(fields))).toBe(untimed(written));
    }
    expect(JSON.parse(line({ reqId: 'x' })).time).toBeGreaterThan(Date.now() - 60_000);
  });
});
