import { mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseSyslogTarget } from './index.ts';
import { Spool, SpoolFullError } from './spool.ts';
import { formatMessage, frame, parseMessage } from './syslog.ts';

const scratch = (name: string) => mkdtempSync(join(tmpdir(), `${name}-`));

describe('syslog messages', () => {
  it('are RFC 5424 with the chain position in structured data, octet-counted, and parse back', () => {
    const line = '{"a":"x ] \\" y","mac":"m"}';
    const message = formatMessage(
      { kind: 'audit', seq: 7, line },
      { app: 'platform-ops', replica: 'r "1"', pid: 42 },
      new Date('2026-01-02T03:04:05.000Z'),
    );
    expect(message).toBe(
      `<110>1 2026-01-02T03:04:05.000Z r_"1" platform-ops 42 audit [gatehouse@32473 seq="7" replica="r \\"1\\""] ${line}`,
    );
    expect(parseMessage(message)).toEqual({ kind: 'audit', seq: 7, replica: 'r "1"', line });
    const framed = frame('é');
    expect(framed.toString()).toBe('2 é');
  });

  it('accept only tls:// targets', () => {
    expect(parseSyslogTarget('tls://127.0.0.1:6514', 'X')).toEqual({ host: '127.0.0.1', port: 6514 });
    expect(parseSyslogTarget('tls://[::1]:1', 'X')).toEqual({ host: '::1', port: 1 });
    expect(() => parseSyslogTarget('tcp://127.0.0.1:514', 'X')).toThrow(/only tls/);
    expect(() => parseSyslogTarget('nonsense', 'X')).toThrow(/tls:\/\/host/);
  });
});

describe('the spool', () => {
  it('keeps what is undelivered across a restart, compacts what was, and refuses past its bound', () => {
    const dir = scratch('spool');
    const spool = new Spool(dir, 350, 'X_AUDIT_SPOOL_DIR');
    spool.append(['a'.repeat(99), 'b'.repeat(99)]);
    const first = spool.read(spool.delivered);
    expect(first.messages).toHaveLength(2);
    spool.commit(spool.delivered + 100); // the receiver has the first message
    spool.close();
    const again = new Spool(dir, 350, 'X_AUDIT_SPOOL_DIR');
    expect(again.read(again.delivered).messages).toEqual(['b'.repeat(99)]);
    again.append(['c'.repeat(99)]);
    again.append(['d'.repeat(99)]); // past 350 bytes: the delivered first message goes
    expect(readdirSync(dir).filter((f) => f.startsWith('spool-'))).toEqual(['spool-1.log']);
    expect(() => again.append(['e'.repeat(99)])).toThrow(SpoolFullError);
    expect(again.read(again.delivered).messages.map((m) => m[0])).toEqual(['b', 'c', 'd']);
    again.commit(again.end);
    expect(again.backlog).toBe(0);
    expect(again.lastMessage()).toBe('d'.repeat(99)); // kept through compaction
    again.close();
  });

  it('has one writer', () => {
    const dir = scratch('spool');
    const spool = new Spool(dir, 1000, 'X_AUDIT_SPOOL_DIR');
    expect(() => new Spool(dir, 1000, 'X_AUDIT_SPOOL_DIR')).toThrow(/X_AUDIT_SPOOL_DIR/);
    spool.close();
  });
});
