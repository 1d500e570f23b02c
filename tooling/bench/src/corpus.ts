import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * A seeded corpus the docs server has never seen, shaped like real prose:
 * word frequencies follow Zipf's law over a made-up vocabulary, so a few words
 * are in nearly every document and most are rare. Same seed, same text.
 */

/** mulberry32: small, fast, good enough for test data. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

// Consonant–vowel syllables without s, e, i or y: the porter stemmer leaves such words alone, so
// each vocabulary word is one index term.
const CONSONANTS = 'bdfgklmnprtvz';
const VOWELS = 'aou';

/** `size` distinct made-up words, in rank order (index 0 is the most frequent). */
function vocabulary(size: number, rand: () => number): string[] {
  const syllable = () =>
    `${CONSONANTS[Math.floor(rand() * CONSONANTS.length)]}${VOWELS[Math.floor(rand() * VOWELS.length)]}`;
  const words = new Set<string>();
  while (words.size < size) {
    const n = 2 + Math.floor(rand() * 3);
    words.add(Array.from({ length: n }, syllable).join(''));
  }
  return [...words];
}

/** Draws ranks 0..n-1 with P(r) ∝ 1 / (r + 1)^s. */
function zipf(n: number, s: number, rand: () => number): () => number {
  const cdf = new Float64Array(n);
  let sum = 0;
  for (let r = 0; r < n; r++) {
    sum += 1 / (r + 1) ** s;
    cdf[r] = sum;
  }
  return () => {
    const x = rand() * sum;
    let lo = 0;
    let hi = n - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (cdf[mid]! < x) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  };
}

export interface CorpusSpec {
  documents: number;
  wordsPerDocument: number;
  vocabulary: number;
  exponent: number;
  seed: number;
}

export const CORPUS: Omit<CorpusSpec, 'documents'> = {
  wordsPerDocument: 300,
  vocabulary: 5_000,
  exponent: 1.05,
  seed: 19,
};

export interface Corpus {
  words: string[];
  /** Title and body of every document, in file order (for the reference index). */
  texts: Array<{ title: string; body: string }>;
}

/** Writes ADRs, standards and guides (Markdown with front matter) under `root`. */
export function writeCorpus(root: string, spec: CorpusSpec): Corpus {
  const rand = prng(spec.seed);
  const words = vocabulary(spec.vocabulary, rand);
  const draw = zipf(spec.vocabulary, spec.exponent, rand);
  const word = () => words[draw()]!;
  const texts: Corpus['texts'] = [];
  for (const kind of ['adr', 'standards', 'guides']) mkdirSync(join(root, kind), { recursive: true });
  for (let i = 1; i <= spec.documents; i++) {
    const kind = i % 3 === 0 ? 'adr' : i % 3 === 1 ? 'standards' : 'guides';
    const title = `${word()} ${word()} ${word()} ${i}`;
    const front =
      kind === 'adr'
        ? `---\ntitle: ${title}\nstatus: accepted\ndate: 2024-01-01\nowner: platform\n---\n`
        : `---\ntitle: ${title}\nowner: platform\n---\n`;
    // 300 words in three sections of sentences of 12 (the last one shorter).
    const sections: string[] = [];
    const per = Math.ceil(spec.wordsPerDocument / 3);
    let left = spec.wordsPerDocument;
    for (const heading of ['Context', 'Decision', 'Consequences']) {
      const n = Math.min(per, left);
      left -= n;
      const sentences: string[] = [];
      for (let w = 0; w < n; w += 12)
        sentences.push(`${Array.from({ length: Math.min(12, n - w) }, word).join(' ')}.`);
      sections.push(`## ${heading}\n\n${sentences.join(' ')}\n`);
    }
    const body = sections.join('\n');
    const name = kind === 'adr' ? `${String(i).padStart(6, '0')}-doc-${i}.md` : `doc-${i}.md`;
    writeFileSync(join(root, kind, name), `${front}\n# ${title}\n\n${body}`);
    texts.push({ title, body });
  }
  return { words, texts };
}

export interface QueryMix {
  common: string[];
  mid: string[];
  rareCommon: string[];
}

/**
 * `perKind` distinct two-word queries of each kind, none repeated: two very
 * common words (ranks 1–30), two mid-frequency words (ranks 200–1,500), and a
 * rare word (ranks 2,500–5,000) with a common one (ranks 1–50).
 */
export function queryMix(words: string[], perKind: number, seed: number): QueryMix {
  const rand = prng(seed);
  const seen = new Set<string>();
  const pick = (lo: number, hi: number) => words[lo + Math.floor(rand() * (hi - lo))]!;
  const make = (a: [number, number], b: [number, number]): string[] => {
    const out: string[] = [];
    for (let guard = 0; out.length < perKind && guard < perKind * 100; guard++) {
      const x = pick(...a);
      const y = pick(...b);
      const key = [x, y].sort().join(' ');
      if (x === y || seen.has(key)) continue;
      seen.add(key);
      out.push(`${x} ${y}`);
    }
    return out;
  };
  const top = Math.min(30, words.length);
  return {
    common: make([0, top], [0, top]),
    mid: make([200, 1_500], [200, 1_500]),
    rareCommon: make([2_500, words.length], [0, 50]),
  };
}
