/**
 * nginx (from the distribution) on loopback in front of Gatehouse replicas, for the
 * tests that need a real reverse proxy: round-robin over the upstreams, the
 * forwarding headers set, an unprivileged config with every path in `dir`.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { freePort, readAudit } from '@gatehouse/core/testing';

export function findNginx(): string | undefined {
  for (const candidate of ['/usr/sbin/nginx', '/usr/local/sbin/nginx', '/usr/bin/nginx'])
    if (existsSync(candidate)) return candidate;
  try {
    return execFileSync('sh', ['-c', 'command -v nginx'], { encoding: 'utf8' }).trim() || undefined;
  } catch {
    return undefined;
  }
}

/** A config an unprivileged user can run: every path inside `dir`, in the foreground. */
function nginxConfig(dir: string, listen: number, upstreams: number[]): string {
  const temp = (name: string) => join(dir, 'tmp', name);
  return `daemon off;
worker_processes 1;
pid ${join(dir, 'nginx.pid')};
error_log ${join(dir, 'error.log')} warn;
events { worker_connections 128; }
http {
  access_log ${join(dir, 'access.log')};
  client_body_temp_path ${temp('body')};
  proxy_temp_path ${temp('proxy')};
  fastcgi_temp_path ${temp('fastcgi')};
  uwsgi_temp_path ${temp('uwsgi')};
  scgi_temp_path ${temp('scgi')};
  upstream gatehouse {
${upstreams.map((p) => `    server 127.0.0.1:${p};`).join('\n')}
    keepalive 8;
  }
  server {
    listen 127.0.0.1:${listen};
    location / {
      proxy_pass http://gatehouse;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_set_header Host $http_host;
      proxy_set_header X-Forwarded-Host $http_host;
      proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
      proxy_set_header X-Forwarded-Proto $scheme;
      proxy_buffering off;
      proxy_read_timeout 60s;
      proxy_next_upstream off;
    }
  }
}
`;
}

export interface NginxProxy {
  url: string;
  child: ChildProcess;
  stop(): Promise<void>;
}

export async function startNginx(
  bin: string,
  dir: string,
  upstreams: number[],
  listen?: number,
): Promise<NginxProxy> {
  const port = listen ?? (await freePort());
  mkdirSync(join(dir, 'tmp'), { recursive: true });
  // A root master hands requests to workers running as nobody: let them use the temp paths.
  chmodSync(dir, 0o755);
  chmodSync(join(dir, 'tmp'), 0o777);
  const conf = join(dir, 'nginx.conf');
  writeFileSync(conf, nginxConfig(dir, port, upstreams));
  const child = spawn(bin, ['-p', dir, '-c', conf, '-e', join(dir, 'error.log')], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr?.on('data', (c: Buffer) => {
    stderr += c.toString();
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const url = `http://127.0.0.1:${port}`;
  // Bounded: 50 tries, 100 ms apart.
  for (let i = 0; i < 50; i++) {
    if (child.exitCode !== null) break;
    const ok = await fetch(`${url}/healthz`, { signal: AbortSignal.timeout(1_000) })
      .then((r) => r.ok)
      .catch(() => false);
    if (ok)
      return {
        url,
        child,
        stop: async () => {
          if (child.exitCode === null) child.kill('SIGQUIT');
          setTimeout(() => child.kill('SIGKILL'), 5_000).unref();
          await exited;
        },
      };
    await new Promise((r) => setTimeout(r, 100));
  }
  child.kill('SIGKILL');
  const log = existsSync(join(dir, 'error.log')) ? readFileSync(join(dir, 'error.log'), 'utf8') : '';
  throw new Error(`nginx did not start: ${stderr}${log}`.slice(-2000));
}

/**
 * Which replica sealed an approval and which one completed it, from each replica's audit file: the
 * index of the file holding the `approval_requested` record and of the one holding `approved`.
 */
export function approvalReplicas(audits: readonly string[], tool: string) {
  const rollbacks = audits.map((file) => readAudit(file).filter((r) => r.name === tool));
  const sealedBy = rollbacks.findIndex((records) => records.some((r) => r.decision === 'approval_requested'));
  const completedBy = rollbacks.findIndex((records) => records.some((r) => r.decision === 'approved'));
  return { rollbacks, sealedBy, completedBy };
}
