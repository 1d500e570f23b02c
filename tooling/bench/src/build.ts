import { resolve } from 'node:path';
import { build } from 'tsup';
import { binaryPreset } from '../../config/tsup.preset.ts';

const BENCH_DIR = resolve(import.meta.dirname, '..');
const DIST = resolve(BENCH_DIR, 'dist');

const TARGETS = {
  'bare-v2': 'src/targets/bare-v2.ts',
  'bare-v1': 'src/targets/bare-v1.ts',
  'core-server': 'src/targets/core-server.ts',
  'echo-http': 'src/targets/echo-http.ts',
} as const;
export type TargetName = keyof typeof TARGETS;

export const targetBin = (name: TargetName): string => resolve(DIST, `${name}.js`);

/**
 * Bundles the baselines exactly as the servers are bundled (the shared tsup
 * binary preset: @gatehouse/* inlined, the packages listed as dependencies
 * external), so a cold-start difference is the code's, not the packaging's.
 * Each target is built on its own: one that fails to build (core mid-change)
 * is reported and its sections skip, the rest still run.
 */
export async function buildTargets(): Promise<{ ms: number; failed: Partial<Record<TargetName, string>> }> {
  const started = performance.now();
  const failed: Partial<Record<TargetName, string>> = {};
  const cwd = process.cwd();
  process.chdir(BENCH_DIR);
  try {
    for (const [name, file] of Object.entries(TARGETS) as Array<[TargetName, string]>) {
      try {
        await build({
          ...binaryPreset({ [name]: resolve(BENCH_DIR, file) }),
          outDir: DIST,
          clean: false,
          config: false,
          silent: true,
          sourcemap: false,
        });
      } catch (error) {
        failed[name] = (error as Error).message.split('\n')[0] ?? 'build failed';
      }
    }
  } finally {
    process.chdir(cwd);
  }
  return { ms: performance.now() - started, failed };
}
