/**
 * `node tooling/bench/src/profile.ts [--target core-server|bare-v2|platform-ops] [--calls N] [--concurrency C]`
 * Runs a server under --cpu-prof while driving tools/call at it, then prints
 * the functions with the most self time (and writes the .cpuprofile to
 * <repo>/.bench/profiles for Chrome DevTools). What a MISS in the bench is
 * diagnosed with.
 */
import { mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { startSandbox } from '@gatehouse/sandbox';
import { buildTargets, targetBin } from './build.ts';
import { drive, StdioPeer } from './peer.ts';
import { REPO } from './servers.ts';

const { values } = parseArgs({
  options: {
    target: { type: 'string', default: 'core-server' },
    tool: { type: 'string', default: 'echo' },
    calls: { type: 'string', default: '5000' },
    concurrency: { type: 'string', default: '1' },
    top: { type: 'string', default: '25' },
  },
});

interface Node {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
interface Profile {
  nodes: Node[];
  samples: number[];
  timeDeltas: number[];
}

await buildTargets();
const sandbox = await startSandbox();
const dir = join(REPO, '.bench', 'profiles', `${values.target}-${Date.now()}`);
mkdirSync(dir, { recursive: true });
const bin =
  values.target === 'platform-ops'
    ? join(REPO, 'servers/platform-ops/dist/bin.js')
    : targetBin(values.target as 'core-server');
const prefix = values.target === 'platform-ops' ? 'PLATFORM_OPS' : 'BENCH';
const peer = new StdioPeer(bin, {
  [`${prefix}_API_URL`]: sandbox.url,
  [`${prefix}_API_TOKEN`]: sandbox.tokens['platform-ops'],
  [`${prefix}_AUDIT_FILE`]: join(dir, 'audit.jsonl'),
  NODE_OPTIONS: `--cpu-prof --cpu-prof-dir=${dir}`,
});
await peer.initialize();
const args = values.tool === 'echo' ? { text: 'hello gatehouse' } : { service: 'checkout-api' };
const r = await drive(peer, () => peer.callTool(values.tool, args), {
  total: Number(values.calls),
  concurrency: Number(values.concurrency),
  maxMs: 120_000,
});
console.log(`${r.done} calls, ${Math.round(r.perSecond)}/s, ${r.errors} errors`);
await peer.close(10_000);
await sandbox.close();

const file = readdirSync(dir).find((f) => f.endsWith('.cpuprofile'));
if (!file) throw new Error(`no profile written in ${dir}`);
const profile = JSON.parse(readFileSync(join(dir, file), 'utf8')) as Profile;
const self = new Map<number, number>();
for (const [i, id] of profile.samples.entries())
  self.set(id, (self.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0));
const byFrame = new Map<string, number>();
let total = 0;
for (const node of profile.nodes) {
  const t = self.get(node.id) ?? 0;
  total += t;
  const url = node.callFrame.url
    .replace(/^.*node_modules\/\.pnpm\/([^/]+)\/.*$/, '$1')
    .replace(/^file:\/\/.*\//, '');
  const key = `${node.callFrame.functionName || '(anonymous)'}  ${url}:${node.callFrame.lineNumber + 1}`;
  byFrame.set(key, (byFrame.get(key) ?? 0) + t);
}
const top = [...byFrame.entries()].sort((a, b) => b[1] - a[1]).slice(0, Number(values.top));
console.log(`self time, top ${top.length} of ${Math.round(total / 1000)} ms (${join(dir, file)}):`);
for (const [key, t] of top)
  console.log(
    `${(t / 1000).toFixed(1).padStart(8)} ms ${((t / total) * 100).toFixed(1).padStart(5)}%  ${key}`,
  );
