import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { REPO, type Target } from './servers.ts';

/** A git ref built in a scratch folder: the B side of `pnpm bench --against <ref>`. */
export interface RefBuild {
  /** As given on the command line (`main`, `HEAD~3`, a hash). */
  ref: string;
  sha: string;
  root: string;
  /** Baselines of the ref's bench that did not build (their twins are left out). */
  failed: Record<string, string>;
}

const run = (cmd: string, args: string[], cwd: string, log: (l: string) => void) => {
  const started = performance.now();
  const r = spawnSync(cmd, args, {
    cwd,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
    env: process.env,
  });
  if (r.status !== 0)
    throw new Error(
      `${cmd} ${args.join(' ')} failed in ${cwd}: ${(r.stderr || r.stdout).trim().slice(-400)}`,
    );
  log(`  ${cmd} ${args.join(' ')}: ${Math.round((performance.now() - started) / 1000)} s`);
};

/**
 * Exports `ref` with `git archive` (the repository's own worktrees and refs are
 * left untouched) into <tmp>/gatehouse-bench-ref/<sha>, installs it from the
 * lockfile (`pnpm install --frozen-lockfile --prefer-offline`), builds it
 * (`pnpm build`) and bundles its bench baselines with its own build.ts. A
 * folder already built for the same commit is reused, so repeated A/B runs
 * against `main` pay the build once; delete the folder to force a rebuild.
 */
export async function buildRef(ref: string, log: (line: string) => void): Promise<RefBuild> {
  const sha = execFileSync('git', ['rev-parse', '--verify', `${ref}^{commit}`], {
    cwd: REPO,
    encoding: 'utf8',
  }).trim();
  const root = join(tmpdir(), 'gatehouse-bench-ref', sha);
  const marker = join(root, '.bench-ref-built');
  if (!existsSync(marker)) {
    log(`building ${ref} (${sha.slice(0, 10)}) in ${root}…`);
    rmSync(root, { recursive: true, force: true });
    mkdirSync(root, { recursive: true });
    const archive = spawnSync('git', ['archive', '--format=tar', sha], {
      cwd: REPO,
      maxBuffer: 1024 * 1024 * 1024,
    });
    if (archive.status !== 0) throw new Error(`git archive ${sha} failed: ${archive.stderr}`);
    const untar = spawnSync('tar', ['-x', '-C', root], { input: archive.stdout });
    if (untar.status !== 0) throw new Error(`tar -x failed: ${untar.stderr}`);
    run('pnpm', ['install', '--frozen-lockfile', '--prefer-offline', '--reporter=silent'], root, log);
    run('pnpm', ['build', '--output-logs=errors-only'], root, log);
  } else log(`reusing the build of ${ref} (${sha.slice(0, 10)}) in ${root}`);
  // The ref's own bench bundles its own baselines (core bench server, bare SDK…) from its own sources.
  const theirs = (await import(pathToFileURL(join(root, 'tooling/bench/src/build.ts')).href)) as {
    buildTargets: () => Promise<{ failed: Record<string, string> }>;
  };
  const { failed } = await theirs.buildTargets();
  writeFileSync(marker, `${new Date().toISOString()}\n`);
  return { ref, sha, root, failed };
}

/**
 * The ref's twin of each Gatehouse target of the working tree: the same name
 * with ` @<ref>`, the same environment, its binary taken from the ref's build.
 * Baselines (the bare SDKs) are not twinned: they are the same code on both sides.
 */
export function twinTargets(targets: Target[], build: RefBuild): Target[] {
  const twins: Target[] = [];
  for (const t of targets) {
    if (t.kind !== 'gatehouse') continue;
    if (!t.bin.startsWith(REPO)) continue;
    const bin = join(build.root, t.bin.slice(REPO.length));
    if (!existsSync(bin)) continue;
    const twin: Target = { ...t, name: `${t.name} @${build.ref}`, kind: 'reference', bin, twinOf: t.name };
    t.twin = twin;
    twins.push(twin);
  }
  return twins;
}
