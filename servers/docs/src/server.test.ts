/**
 * The checks every server shares (registry, README, surface snapshot, fuzzing: see defineServerTests).
 * docs serves a copy of the sample handbook with ways out of the root planted in it (a link to /etc,
 * a page linking to a file beside the root): the fuzzer's traversal strings must never reach them.
 */
import { cpSync, mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fuzzTools } from '@gatehouse/bench/fuzz';
import { defineServerTests } from '@gatehouse/core/testing';
import docs from './index.ts';

const ROOT = resolve(import.meta.dirname, '..');
/** Text that lives only outside the docs root; it must never come back from any call. */
const OUTSIDE_SECRET = 'OUTSIDE-ROOT-SECRET-9c41f';

/** A fresh copy of the handbook in `scratch`, a secret beside it, and links out of it. */
function hostileHandbook(scratch: string): string {
  const root = join(scratch, 'handbook');
  cpSync(join(ROOT, 'handbook'), root, { recursive: true });
  const outside = join(scratch, 'outside');
  mkdirSync(outside, { recursive: true });
  writeFileSync(
    join(outside, 'secret.md'),
    `---\ntitle: Outside secret\n---\n# Outside\n\n${OUTSIDE_SECRET} postgres kafka\n`,
  );
  symlinkSync('/etc', join(root, 'etc-link'));
  symlinkSync(join(outside, 'secret.md'), join(root, 'guides', 'escape.md'));
  return root;
}

defineServerTests(docs, {
  root: ROOT,
  env: (scratch) => ({ DOCS_ROOT: hostileHandbook(scratch) }),
  fuzz: {
    engine: fuzzTools,
    runsPerTool: 100,
    budgetMs: 12_000,
    inspect: (tool, _args, result) => {
      const text = JSON.stringify(result);
      if (text.includes(OUTSIDE_SECRET)) throw new Error(`${tool} returned text from outside DOCS_ROOT`);
      if (text.includes('root:x:0:0')) throw new Error(`${tool} returned /etc/passwd`);
    },
  },
});
