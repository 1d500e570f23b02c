/**
 * A real rsyslog (Debian's `rsyslog` + `rsyslog-gnutls`) for the shipping system test: its own
 * config folder, certificates made by openssl, imtcp with the gtls driver on a loopback port, every
 * message written raw (as received, one a line) to a file. Stopped and started again by the test.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { freePort, type TestCerts } from '@gatehouse/core/testing';

const RSYSLOGD = ['/usr/sbin/rsyslogd', '/sbin/rsyslogd'].find((p) => existsSync(p));
const GTLS = [
  '/usr/lib/x86_64-linux-gnu/rsyslog/lmnsd_gtls.so',
  '/usr/lib/aarch64-linux-gnu/rsyslog/lmnsd_gtls.so',
  '/usr/lib/rsyslog/lmnsd_gtls.so',
].some((p) => existsSync(p));

/** Why the rsyslog test cannot run here, or undefined when it can. */
export function rsyslogMissing(): string | undefined {
  if (!RSYSLOGD) return 'rsyslogd is not installed (apt-get install rsyslog rsyslog-gnutls)';
  if (!GTLS) return 'the rsyslog gtls driver is not installed (apt-get install rsyslog-gnutls)';
  try {
    execFileSync('openssl', ['version'], { stdio: 'ignore' });
  } catch {
    return 'openssl is not installed';
  }
  return undefined;
}

function config(dir: string, port: number, certs: TestCerts): string {
  return `global(
  workDirectory="${join(dir, 'work')}"
  maxMessageSize="256k"
  defaultNetstreamDriver="gtls"
  defaultNetstreamDriverCAFile="${certs.caFile}"
  defaultNetstreamDriverCertFile="${certs.serverCertFile}"
  defaultNetstreamDriverKeyFile="${certs.serverKeyFile}"
)
module(load="imtcp" streamDriver.name="gtls" streamDriver.mode="1" streamDriver.authMode="anon")
template(name="raw" type="string" string="%rawmsg%\\n")
ruleset(name="audit") {
  action(type="omfile" file="${join(dir, 'received.log')}" template="raw")
}
input(type="imtcp" address="127.0.0.1" port="${port}" ruleset="audit")
`;
}

export interface Rsyslog {
  port: number;
  /** Every message received so far (raw RFC 5424 text), in the order written. */
  messages(): string[];
  start(): Promise<void>;
  stop(): Promise<void>;
}

async function accepting(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port }, () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

export async function createRsyslog(dir: string, certs: TestCerts): Promise<Rsyslog> {
  const port = await freePort();
  mkdirSync(join(dir, 'work'), { recursive: true });
  const conf = join(dir, 'rsyslog.conf');
  writeFileSync(conf, config(dir, port, certs));
  let child: ChildProcess | undefined;
  let stderr = '';
  return {
    port,
    messages: () => {
      const file = join(dir, 'received.log');
      return existsSync(file) ? readFileSync(file, 'utf8').split('\n').filter(Boolean) : [];
    },
    async start() {
      child = spawn(RSYSLOGD!, ['-n', '-f', conf, '-i', join(dir, 'rsyslogd.pid')], {
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      child.stderr?.on('data', (c: Buffer) => {
        stderr += c.toString();
      });
      child.stdout?.on('data', (c: Buffer) => {
        stderr += c.toString();
      });
      // Bounded: 100 tries, 50 ms apart.
      for (let i = 0; i < 100; i++) {
        if (child.exitCode !== null) break;
        if (await accepting(port)) return;
        await new Promise((r) => setTimeout(r, 50));
      }
      child.kill('SIGKILL');
      throw new Error(`rsyslogd did not start: ${stderr.slice(-2000)}`);
    },
    async stop() {
      const running = child;
      child = undefined;
      if (!running || running.exitCode !== null) return;
      const exited = new Promise<void>((resolve) => running.once('exit', () => resolve()));
      running.kill('SIGTERM');
      const timer = setTimeout(() => running.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(timer);
    },
  };
}
