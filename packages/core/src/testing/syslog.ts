/**
 * For tests of audit shipping: a throwaway CA and certificates made with the
 * real `openssl`, a loopback TLS syslog receiver that reads octet-counted
 * frames (RFC 6587), and the receiving side's job — dropping duplicates by
 * (kind, seq) and writing the copy `verify-audit` checks.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { createServer, type Server, type TLSSocket } from 'node:tls';
import { parseMessage } from '../audit/ship/syslog.ts';

export interface TestCerts {
  dir: string;
  caFile: string;
  serverCertFile: string;
  serverKeyFile: string;
  ca: string;
  serverCert: string;
  serverKey: string;
}

/** Whether `openssl` can be run here (tests that need certificates skip with one line when not). */
export function hasOpenssl(): boolean {
  try {
    execFileSync('openssl', ['version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** A CA and a server certificate for 127.0.0.1 / localhost, in `dir`. */
export function makeCerts(dir: string): TestCerts {
  const run = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
  run('genrsa', '-out', 'ca.key', '2048');
  run(
    'req',
    '-x509',
    '-new',
    '-key',
    'ca.key',
    '-days',
    '2',
    '-subj',
    '/CN=gatehouse test CA',
    '-out',
    'ca.pem',
  );
  run('genrsa', '-out', 'server.key', '2048');
  run('req', '-new', '-key', 'server.key', '-subj', '/CN=localhost', '-out', 'server.csr');
  writeFileSync(join(dir, 'ext.cnf'), 'subjectAltName=IP:127.0.0.1,DNS:localhost\n');
  run(
    'x509',
    '-req',
    '-in',
    'server.csr',
    '-CA',
    'ca.pem',
    '-CAkey',
    'ca.key',
    '-CAcreateserial',
    '-days',
    '2',
    '-extfile',
    'ext.cnf',
    '-out',
    'server.pem',
  );
  const file = (name: string) => join(dir, name);
  return {
    dir,
    caFile: file('ca.pem'),
    serverCertFile: file('server.pem'),
    serverKeyFile: file('server.key'),
    ca: readFileSync(file('ca.pem'), 'utf8'),
    serverCert: readFileSync(file('server.pem'), 'utf8'),
    serverKey: readFileSync(file('server.key'), 'utf8'),
  };
}

/** A TLS syslog receiver on 127.0.0.1 that keeps every message it reads, in order. */
export interface TestReceiver {
  port: number;
  messages: string[];
  close(): Promise<void>;
}

export async function startReceiver(certs: TestCerts, port = 0): Promise<TestReceiver> {
  const messages: string[] = [];
  const sockets = new Set<TLSSocket>();
  const server: Server = createServer({ cert: certs.serverCert, key: certs.serverKey }, (socket) => {
    sockets.add(socket);
    let buffer = Buffer.alloc(0);
    socket.on('data', (chunk: Buffer) => {
      buffer = Buffer.concat([buffer, chunk]);
      for (;;) {
        const space = buffer.indexOf(32);
        if (space === -1) break;
        const length = Number(buffer.subarray(0, space).toString());
        if (buffer.length < space + 1 + length) break;
        messages.push(buffer.subarray(space + 1, space + 1 + length).toString('utf8'));
        buffer = buffer.subarray(space + 1 + length);
      }
    });
    socket.on('end', () => socket.end());
    socket.on('error', () => {});
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve());
  });
  return {
    port: (server.address() as AddressInfo).port,
    messages,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

/**
 * The receiving side: messages (RFC 5424 text) deduplicated by (kind, seq),
 * sorted, and written as a log and an anchor file `verify-audit` reads.
 */
export function receivedCopy(
  messages: readonly string[],
  dir: string,
): { log: string; anchors: string; records: string[]; duplicates: number } {
  const records = new Map<number, string>();
  const checkpoints = new Map<number, string>();
  let duplicates = 0;
  for (const message of messages) {
    const parsed = parseMessage(message);
    if (!parsed) continue;
    const into = parsed.kind === 'audit' ? records : checkpoints;
    if (into.has(parsed.seq)) {
      duplicates += 1;
      if (into.get(parsed.seq) !== parsed.line)
        throw new Error(`two different ${parsed.kind} lines for seq ${parsed.seq}`);
    } else into.set(parsed.seq, parsed.line);
  }
  const ordered = (map: Map<number, string>) =>
    [...map.entries()].sort((a, b) => a[0] - b[0]).map((e) => e[1]);
  const log = join(dir, 'received.jsonl');
  const anchors = join(dir, 'received.anchors.jsonl');
  const lines = ordered(records);
  writeFileSync(log, lines.map((l) => `${l}\n`).join(''));
  writeFileSync(
    anchors,
    ordered(checkpoints)
      .map((l) => `${l}\n`)
      .join(''),
  );
  return { log, anchors, records: lines, duplicates };
}
