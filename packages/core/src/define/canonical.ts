import { createHmac, type KeyObject } from 'node:crypto';

/**
 * JSON values as the audit trail sees them: canonical text for digests, and
 * their shape (how many values, how deep). Every walk here keeps its own
 * stack: arguments nested thousands of levels deep (a few kilobytes of
 * `[[[[…`) cost time in proportion to their size and never overflow the call
 * stack, which would lose the record of the call they came with.
 */

const ARRAY_INDEX = /^(?:0|[1-9]\d*)$/;
/** An array-index key: objects enumerate these first, in numeric order. */
const isArrayIndex = (key: string) => {
  const first = key.charCodeAt(0);
  return first >= 48 && first <= 57 && ARRAY_INDEX.test(key) && Number(key) < 4_294_967_295;
};

/**
 * Own enumerable keys in the order `Object.fromEntries` of the entries sorted by
 * key would enumerate them: array-index keys in numeric order first, then the
 * other keys sorted by UTF-16 code units (the default sort order).
 */
function sortedKeys(value: object): string[] {
  const keys = Object.keys(value);
  if (keys.length < 2) return keys;
  keys.sort();
  if (!keys.some(isArrayIndex)) return keys;
  const indices = keys.filter(isArrayIndex).sort((a, b) => Number(a) - Number(b));
  return [...indices, ...keys.filter((key) => !isArrayIndex(key))];
}

/** What JSON.stringify serialises for a property: the value after its own `toJSON`. */
function jsonValueOf(value: unknown, key: string | number): unknown {
  if (value !== null && (typeof value === 'object' || typeof value === 'bigint')) {
    const toJSON = (value as { toJSON?: unknown }).toJSON;
    if (typeof toJSON === 'function') return toJSON.call(value, String(key));
  }
  return value;
}

/** Values JSON leaves out of an object (and writes as null in an array). */
const omitted = (value: unknown) =>
  value === undefined || typeof value === 'function' || typeof value === 'symbol';

/** Strings, numbers and booleans as JSON writes them; a BigInt throws as it does there. */
const scalar = (value: unknown): string =>
  typeof value === 'number' ? (Number.isFinite(value) ? String(value) : 'null') : JSON.stringify(value);

/** Below this depth a cycle is looked for along the whole path; deeper, against one ancestor. */
const SHALLOW = 64;
const circular = () => new TypeError('Converting circular structure to JSON');

/**
 * JSON with object keys sorted, so equal values always serialise (and digest)
 * the same way: the text `JSON.stringify` writes with a replacer that rebuilds
 * each object from its entries sorted by key, produced without recursion.
 */
export function canonicalJson(value: unknown): string {
  // The open arrays and objects, innermost last: the value, its keys (objects), the next position.
  const sources: object[] = [];
  const keyLists: Array<string[] | undefined> = [];
  const positions: number[] = [];
  // Whether an object has written a member yet (members JSON leaves out write nothing).
  const written: boolean[] = [];
  let out = '';
  const open = (v: object): void => {
    const depth = sources.length;
    if (depth < SHALLOW) {
      for (let i = 0; i < depth; i++) if (sources[i] === v) throw circular();
    } else {
      // Deeper, one ancestor is compared (Brent): the one at the largest power of two below this
      // depth. A cycle repeats along the path, so once that depth is past the cycle's start and
      // longer than its period, the repetition meets it within one period.
      let anchor = 1 << (31 - Math.clz32(depth));
      if (anchor === depth) anchor /= 2;
      if (sources[anchor] === v) throw circular();
    }
    const keys = Array.isArray(v) ? undefined : sortedKeys(v);
    out += keys ? '{' : '[';
    sources.push(v);
    keyLists.push(keys);
    positions.push(0);
    written.push(false);
  };
  const top = jsonValueOf(value, '');
  if (omitted(top)) return undefined as unknown as string;
  if (top === null || typeof top !== 'object') return scalar(top);
  open(top);
  while (sources.length > 0) {
    const last = sources.length - 1;
    const source = sources[last]!;
    const keys = keyLists[last];
    const position = positions[last]!;
    const length = keys ? keys.length : (source as unknown[]).length;
    if (position >= length) {
      out += keys ? '}' : ']';
      sources.pop();
      keyLists.pop();
      positions.pop();
      written.pop();
      continue;
    }
    positions[last] = position + 1;
    let item: unknown;
    if (keys) {
      const key = keys[position]!;
      item = jsonValueOf((source as Record<string, unknown>)[key], key);
      if (omitted(item)) continue;
      out += `${written[last] ? ',' : ''}${JSON.stringify(key)}:`;
      written[last] = true;
    } else {
      if (position > 0) out += ',';
      item = jsonValueOf((source as unknown[])[position], position);
      if (omitted(item)) {
        out += 'null';
        continue;
      }
    }
    if (item === null || typeof item !== 'object') out += scalar(item);
    else open(item);
  }
  return out;
}

/** Keyed digest: proves which arguments were used without storing them. */
export function keyedDigest(key: KeyObject | Uint8Array | string, value: unknown): string {
  return createHmac('sha256', key).update(canonicalJson(value)).digest('base64url');
}

export interface JsonShape {
  /** Array elements and object members, counted until a limit is passed. */
  elements: number;
  /** Deepest nesting of arrays and objects seen (a scalar is 0, `{}` is 1), until a limit is passed. */
  depth: number;
}

/**
 * How many values a JSON value holds and how deep it nests, stopping as soon as
 * either limit is passed (so the answer is exact up to the limits and "more"
 * beyond them). Iterative: the depth of the input never reaches the call stack.
 */
export function jsonShape(value: unknown, limits: { elements: number; depth: number }): JsonShape {
  let elements = 0;
  let depth = 0;
  const stack: Array<[unknown, number]> = [[value, 1]];
  while (stack.length > 0 && elements <= limits.elements && depth <= limits.depth) {
    const [item, level] = stack.pop()!;
    if (!item || typeof item !== 'object') continue;
    if (level > depth) depth = level;
    const children = Array.isArray(item) ? item : Object.values(item);
    elements += children.length;
    for (const child of children) if (child && typeof child === 'object') stack.push([child, level + 1]);
  }
  return { elements, depth };
}
