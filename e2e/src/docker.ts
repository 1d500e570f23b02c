/**
 * A Docker engine of the test's own (Debian's docker.io): dockerd with its own data root, exec root
 * and socket, no iptables and no bridge (containers use the host's network, so traffic stays on
 * loopback), and the CLI pointed at it. Nothing is pulled: images are built by deploy/docker/build.sh.
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
const DOCKERD = ['/usr/sbin/dockerd', '/usr/bin/dockerd'].find((p) => existsSync(p));
/** Debian's CLI first: it matches Debian's engine. */
const CLI = ['/usr/bin/docker', '/usr/local/bin/docker'].find((p) => existsSync(p));

/** Why Docker cannot run here, or undefined. */
export function dockerMissing(): string | undefined {
  if (!DOCKERD || !CLI) return 'docker is not installed (apt-get install docker.io)';
  if (process.getuid?.() !== 0) return 'dockerd needs root';
  return undefined;
}

/** dockerd leaves its network namespace mounted under the exec root: let go of every mount under `dir`. */
async function unmountUnder(dir: string): Promise<void> {
  const mounts = readFileSync('/proc/self/mounts', 'utf8')
    .split('\n')
    .map((line) => line.split(' ')[1] ?? '')
    .filter((path) => path.startsWith(`${dir}/`))
    .sort((a, b) => b.length - a.length);
  for (const path of mounts) await run('umount', ['-l', path]).catch(() => undefined);
}

export interface Engine {
  host: string;
  cli: string;
  /** `docker <args>` against this engine; resolves with stdout, rejects with stderr. */
  docker(...args: string[]): Promise<string>;
  env: Record<string, string>;
  stop(): Promise<void>;
}

export async function startEngine(dir: string): Promise<Engine> {
  mkdirSync(dir, { recursive: true });
  const socket = join(dir, 'docker.sock');
  const host = `unix://${socket}`;
  let log = '';
  const child: ChildProcess = spawn(
    DOCKERD!,
    [
      '--data-root',
      join(dir, 'data'),
      '--exec-root',
      join(dir, 'exec'),
      '--pidfile',
      join(dir, 'docker.pid'),
      '--host',
      host,
      '--iptables=false',
      '--ip6tables=false',
      '--bridge=none',
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  child.stderr?.on('data', (c: Buffer) => {
    log = (log + c.toString()).slice(-8000);
  });
  const env = {
    DOCKER_HOST: host,
    DOCKER_BUILDKIT: '0',
    PATH: process.env.PATH ?? '',
    HOME: process.env.HOME ?? '/root',
  };
  const docker = async (...args: string[]) =>
    (await run(CLI!, args, { env, maxBuffer: 64 * 1024 * 1024, timeout: 600_000 })).stdout;
  // Bounded: 150 tries, 200 ms apart.
  for (let i = 0; i < 150; i++) {
    if (child.exitCode !== null) break;
    if (
      await docker('version', '--format', '{{.Server.Version}}').then(
        () => true,
        () => false,
      )
    )
      return {
        host,
        cli: CLI!,
        docker,
        env,
        stop: async () => {
          if (child.exitCode !== null) return;
          const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
          child.kill('SIGTERM');
          const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
          await exited;
          clearTimeout(timer);
          await unmountUnder(dir);
          rmSync(dir, { recursive: true, force: true, maxRetries: 3 });
        },
      };
    await new Promise((r) => setTimeout(r, 200));
  }
  child.kill('SIGKILL');
  throw new Error(`dockerd did not start: ${log.split('\n').filter(Boolean).slice(-5).join(' | ')}`);
}
