/**
 * Masks personal data in free text and known fields: email addresses, phone
 * numbers and payment references (IBANs, payment-method ids). The masked forms
 * keep enough shape to be useful (domain of an email, last digits) and stay
 * valid strings for any output schema that accepts free text.
 *
 * Matching runs on a folded copy of the text — HTML entities, percent- and
 * backslash-escapes decoded (up to 3 rounds, for double encoding), each code
 * point NFKC-normalised and lower-cased, invisible format characters dropped —
 * and every match is mapped back to the ORIGINAL text, which is where the mask
 * goes. The map is exact to the unit: a match that starts or ends inside one
 * unit of the original (an entity, an escape, a ligature) masks that whole unit.
 * Work is linear in the length: escapes are read with bounded lookahead, every
 * pattern is a single left-to-right scan (long tokens judged once), and text
 * with nothing a pattern could start from is returned untouched after one
 * regex test (plus a byte count and a second test when it is not plain ASCII).
 */

import { Buffer } from 'node:buffer';

/** The text the patterns see, and where each of its UTF-16 units came from (null: the same place). */
interface Folded {
  text: string;
  from: number[] | null;
  to: number[] | null;
}

/**
 * The fast path. Every pattern needs `@`, a digit or `_` once folded, and folding decodes only from `%`,
 * `&` and `\\`: text with none of those, and no character that folds into one, has nothing to mask.
 * WIDE_TRIGGER lists every non-ASCII code point whose NFKC form holds one (pii.test.ts checks it against
 * the running Node's Unicode tables); it is only consulted for text that is not plain ASCII.
 */
const ASCII_TRIGGER = /[@\d_&%\\]/;
const WIDE_TRIGGER =
  /[\u00B2-\u00B3\u00B9\u00BC-\u00BE\u2070\u2074-\u2079\u2080-\u2089\u2150-\u215F\u2189\u2460-\u249B\u24EA\u3251-\u325F\u32B1-\u32CB\u3358-\u3370\u3378-\u3379\u339F-\u33A6\u33A8\u33AF\u33E0-\u33FE\uFE33-\uFE34\uFE4D-\uFE4F\uFE60\uFE68\uFE6A-\uFE6B\uFF05-\uFF06\uFF10-\uFF19\uFF20\uFF3C\uFF3F\u{1CCF0}-\u{1CCF9}\u{1D7CE}-\u{1D7FF}\u{1F100}-\u{1F10A}\u{1FBF0}-\u{1FBF9}]/u;
const DECODES = /[%&\\]/;
const MAX_ROUNDS = 3;

const ENTITY = /&(?:#(?:(\d{1,7})|[xX]([0-9a-fA-F]{1,6}));?|([A-Za-z]{2,8});)/y;
/** The named entities that can spell an address or a number (name, space, character). */
const NAMED = new Map(
  'commat @|period .|plus +|hyphen -|dash -|lowbar _|percnt %|amp &|quot "|apos \'|lt <|gt >|nbsp  |lpar (|rpar )|colon :|num #|sol /|lsqb [|rsqb ]'
    .split('|')
    .map((e) => [e.slice(0, e.indexOf(' ')), e.slice(e.indexOf(' ') + 1)] as const),
);
/** `\uXXXX`, `\u{X}`, `\xXX`, and `\\` (so a doubly escaped `\\u0040` decodes in the next round). */
const ESCAPE = /\\(?:u([0-9a-fA-F]{4})|u\{([0-9a-fA-F]{1,6})\}|x([0-9a-fA-F]{2})|(\\))/y;
const PERCENT = /%(?:u([0-9a-fA-F]{4})|([0-9a-fA-F]{2}))/y;
const IGNORABLE = /\p{Default_Ignorable_Code_Point}/u;

const foldCache = new Map<number, string>();
function foldCodePoint(cp: number): string {
  if (cp < 128) return cp >= 65 && cp <= 90 ? String.fromCharCode(cp + 32) : String.fromCharCode(cp);
  let folded = foldCache.get(cp);
  if (folded === undefined) {
    const c = String.fromCodePoint(cp);
    // The ideographic full stop separates IDN labels as a dot does.
    folded = IGNORABLE.test(c) ? '' : cp === 0x3002 ? '.' : c.normalize('NFKC').toLowerCase();
    if (foldCache.size >= 4096) foldCache.clear();
    foldCache.set(cp, folded);
  }
  return folded;
}

function foldString(s: string): string {
  let out = '';
  for (const c of s) out += foldCodePoint(c.codePointAt(0)!);
  return out;
}

const validCodePoint = (cp: number) => cp <= 0x10ffff && (cp < 0xd800 || cp > 0xdfff);

/** `%XX` as one byte, or as many as make one UTF-8 code point; `%uXXXX`. */
function percentAt(s: string, i: number): { text: string; next: number } | undefined {
  PERCENT.lastIndex = i;
  const m = PERCENT.exec(s);
  if (!m) return undefined;
  if (m[1]) return { text: String.fromCharCode(Number.parseInt(m[1], 16)), next: PERCENT.lastIndex };
  const lead = Number.parseInt(m[2]!, 16);
  if (lead < 0x80) return { text: String.fromCharCode(lead), next: PERCENT.lastIndex };
  const extra = lead >= 0xf0 && lead <= 0xf4 ? 3 : lead >= 0xe0 ? 2 : lead >= 0xc2 && lead < 0xe0 ? 1 : 0;
  if (extra === 0 || lead > 0xf4) return undefined;
  let cp = lead & (0x3f >> extra);
  let next = PERCENT.lastIndex;
  for (let k = 0; k < extra; k++) {
    PERCENT.lastIndex = next;
    const c = PERCENT.exec(s);
    const byte = c?.[2] ? Number.parseInt(c[2], 16) : -1;
    if ((byte & 0xc0) !== 0x80) return undefined;
    cp = (cp << 6) | (byte & 0x3f);
    next = PERCENT.lastIndex;
  }
  return validCodePoint(cp) ? { text: String.fromCodePoint(cp), next } : undefined;
}

function decodeAt(s: string, i: number, c: number): { text: string; next: number } | undefined {
  if (c === 37) return percentAt(s, i);
  const re = c === 38 ? ENTITY : ESCAPE;
  re.lastIndex = i;
  const m = re.exec(s);
  if (!m) return undefined;
  if (m[4]) return { text: '\\', next: re.lastIndex };
  if (c === 38 && m[3]) {
    const named = NAMED.get(m[3].toLowerCase());
    return named === undefined ? undefined : { text: named, next: re.lastIndex };
  }
  const cp = m[1] ? Number.parseInt(m[1], c === 38 ? 10 : 16) : Number.parseInt((m[2] ?? m[3])!, 16);
  return validCodePoint(cp) ? { text: String.fromCodePoint(cp), next: re.lastIndex } : undefined;
}

/** One round of folding, with the source span of every output unit. */
function foldOnce(s: string): { text: string; from: number[]; to: number[]; decoded: boolean } {
  let text = '';
  const from: number[] = [];
  const to: number[] = [];
  let decoded = false;
  const emit = (chunk: string, a: number, b: number) => {
    text += chunk;
    for (let k = 0; k < chunk.length; k++) {
      from.push(a);
      to.push(b);
    }
  };
  let i = 0;
  while (i < s.length) {
    const c = s.charCodeAt(i);
    if (c === 37 || c === 38 || c === 92) {
      const d = decodeAt(s, i, c);
      if (d) {
        emit(foldString(d.text), i, d.next);
        decoded = true;
        i = d.next;
        continue;
      }
    }
    const cp = s.codePointAt(i)!;
    const width = cp > 0xffff ? 2 : 1;
    emit(foldCodePoint(cp), i, i + width);
    i += width;
  }
  return { text, from, to, decoded };
}

function fold(s: string): Folded {
  if (!DECODES.test(s) && Buffer.byteLength(s, 'utf8') === s.length)
    return { text: s.toLowerCase(), from: null, to: null };
  let round = foldOnce(s);
  for (let n = 1; n < MAX_ROUNDS && round.decoded && DECODES.test(round.text); n++) {
    const next = foldOnce(round.text);
    for (let k = 0; k < next.text.length; k++) {
      next.from[k] = round.from[next.from[k]!]!;
      next.to[k] = round.to[next.to[k]! - 1]!;
    }
    round = next;
  }
  return { text: round.text, from: round.from, to: round.to };
}

/** A match on the folded text, [start, end), and how to write its mask given the original. */
interface Hit {
  start: number;
  end: number;
  mask(original: (a: number, b: number) => string): string;
}

const startOf = (f: Folded, i: number) => (f.from ? f.from[i]! : i);
const endOf = (f: Folded, i: number) => (f.to ? f.to[i - 1]! : i);
/** The original text behind the folded units [x, y). */
const originalOf = (input: string, f: Folded) => (x: number, y: number) =>
  input.slice(startOf(f, x), endOf(f, y));

/** Replaces every hit's span of the ORIGINAL text by its mask (hits in order, non-overlapping). */
function apply(input: string, f: Folded, hits: Hit[]): string {
  const original = originalOf(input, f);
  let out = '';
  let last = 0;
  for (const hit of hits) {
    const start = startOf(f, hit.start);
    if (start < last) continue;
    out += input.slice(last, start) + hit.mask(original);
    last = endOf(f, hit.end);
  }
  return out + input.slice(last);
}

const LOCAL = /[\p{L}\p{N}\p{M}_._%+\-\uD800-\uDFFF]/u;
const DOMAIN =
  /\[(?:ipv6:)?[0-9a-f:.]{2,45}\]|(?:[\p{L}\p{N}\p{M}-]+\.)+(?:xn--[a-z0-9-]+|\p{L}[\p{L}\p{M}]+)(?![\p{L}\p{N}\p{M}])/uy;

/** Emails: local part (plain, partly unicode, or quoted) @ domain (names, IDN, punycode, IP literal). */
function emails(t: string): Hit[] {
  const hits: Hit[] = [];
  let floor = 0;
  for (let at = t.indexOf('@'); at !== -1; at = t.indexOf('@', at + 1)) {
    DOMAIN.lastIndex = at + 1;
    const domain = DOMAIN.exec(t);
    if (!domain) continue;
    let start = at;
    if (t[at - 1] === '"') {
      const open = t.lastIndexOf('"', at - 2);
      if (open >= floor && at - open <= 66 && !/[\r\n]/.test(t.slice(open, at))) start = open;
    } else {
      while (
        start > floor &&
        (LOCAL.test(t[start - 1]!) ||
          (t[start - 1] === "'" && start - 2 >= floor && LOCAL.test(t[start - 2]!)))
      )
        start--;
      while (start < at && /[._%+'_-]/.test(t[start]!)) start++;
    }
    if (start === at) continue;
    const end = DOMAIN.lastIndex;
    const sign = at;
    hits.push({
      start,
      end,
      mask: (o) => `${o(start, start + 1)}***${o(sign, sign + 1)}${o(sign + 1, end)}`,
    });
    floor = end;
    at = end - 1;
  }
  return hits;
}

/** IBAN countries and lengths (ISO 13616 registry). */
const IBAN_LENGTHS = new Map(
  'AD24AE23AL28AT20AZ28BA20BE16BG22BH22BI27BR29BY28CH21CR22CY28CZ24DE22DJ27DK18DO28EE20EG29ES24FI18FK18FO18FR27GB22GE22GI23GL18GR27GT28HR21HU28IE22IL23IQ23IS26IT27JO30KW30KZ20LB28LC32LI21LT20LU20LV21LY25MC27MD24ME22MK19MN20MR27MT31MU30NI28NL18NO15OM23PK24PL28PS29PT25QA29RO24RS22RU33SA24SC31SD18SE24SI19SK24SM27SO23ST25SV28TL23TN24TR26UA29VA22VG24XK20YE30'
    .match(/[A-Z]{2}\d{2}/g)!
    .map((e) => [e.slice(0, 2).toLowerCase(), Number(e.slice(2))] as const),
);

/** ISO 7064 MOD 97-10 over the rearranged IBAN. */
function ibanValid(iban: string): boolean {
  const moved = iban.slice(4) + iban.slice(0, 4);
  let rest = 0;
  for (const c of moved) {
    const v = c <= '9' ? c.charCodeAt(0) - 48 : c.charCodeAt(0) - 87;
    rest = (v > 9 ? rest * 100 + v : rest * 10 + v) % 97;
  }
  return rest === 1;
}

const WORD = /[\p{L}\p{N}_]/u;
const IBAN_START = /(?<!\d)[a-z]{2}\d{2}/g;
const TODAYS_IBAN = /^[A-Z]{2}\d{2}[A-Z0-9]{11,30}$/;

/**
 * Whether the token of `cls` characters around [start, end) passes `judge`. The last token and its verdict
 * are remembered per class, so a long token is walked and judged once however many candidates fall in it.
 */
type Judge = (token: string, a: number, b: number) => boolean;
type Tokens = (cls: RegExp, start: number, end: number, judge: Judge) => boolean;
function tokenizer(t: string): Tokens {
  const last = new Map<RegExp, { a: number; b: number; verdict: boolean }>();
  return (cls, start, end, judge) => {
    const seen = last.get(cls);
    if (seen && start >= seen.a && end <= seen.b) return seen.verdict;
    let a = start;
    let b = end;
    while (a > 0 && cls.test(t[a - 1]!)) a--;
    while (b < t.length && cls.test(t[b]!)) b++;
    const verdict = judge(t.slice(a, b), a, b);
    last.set(cls, { a, b, verdict });
    return verdict;
  };
}

const ALNUM_ASCII = /[0-9a-z]/;
const HEX_DASH = /[0-9a-f-]/;
const allHex = (token: string) => /^[0-9a-f]+$/.test(token);

/** IBANs: any case, compact or in groups of four, alone or glued (then by the country's length). */
function ibans(t: string, original: (a: number, b: number) => string): Hit[] {
  const hits: Hit[] = [];
  const tokens = tokenizer(t);
  for (const m of t.matchAll(IBAN_START)) {
    const s = m.index;
    if (hits.length && s < hits[hits.length - 1]!.end) continue;
    // The alphanumerics from s: compact, or one space before every group of four; at most 34.
    let alnum = '';
    const ends: number[] = [];
    let i = s;
    const grouped = t[s + 4] === ' ';
    while (i < t.length && alnum.length < 35) {
      const boundary = grouped && alnum.length >= 4 && alnum.length % 4 === 0;
      if (boundary && t[i] === ' ' && /[a-z0-9]/.test(t[i + 1] ?? '')) i++;
      if (!/[a-z0-9]/.test(t[i] ?? '')) break;
      alnum += t[i];
      ends.push(++i);
    }
    const country = alnum.slice(0, 2);
    const bounded = (end: number) => !WORD.test(t[s - 1] ?? ' ') && !WORD.test(t[end] ?? ' ');
    let length = 0;
    if (alnum.length >= 15 && alnum.length <= 34 && bounded(ends[alnum.length - 1]!)) {
      const exact = ends[alnum.length - 1]!;
      if (
        (!grouped && TODAYS_IBAN.test(original(s, exact))) ||
        (IBAN_LENGTHS.has(country) && ibanValid(alnum))
      )
        length = alnum.length;
    }
    // Glued to other letters or digits: the country's length decides, unless the whole token is hex (a digest).
    const wanted = IBAN_LENGTHS.get(country) ?? 0;
    if (
      !length &&
      wanted &&
      alnum.length >= wanted &&
      ibanValid(alnum.slice(0, wanted)) &&
      !tokens(ALNUM_ASCII, s, s, allHex)
    )
      length = wanted;
    if (!length) continue;
    const shown = alnum.slice(0, length).toUpperCase();
    hits.push({
      start: s,
      end: ends[length - 1]!,
      mask: () => `${shown.slice(0, 2)}** **** ${shown.slice(-4)}`,
    });
  }
  return hits;
}

const PAYMENT_ID = /(?<![\p{L}\p{N}_])(pm|card|src|ba)_[a-z0-9_]{4,}/gu;

function paymentIds(t: string): Hit[] {
  return [...t.matchAll(PAYMENT_ID)].map((m) => ({
    start: m.index,
    end: m.index + m[0].length,
    mask: () => `${m[1]}_****${m[0].slice(-4)}`,
  }));
}

// A run of digits and separators from a digit (or a +) to a digit; 9 digits or more is a phone number,
// glued to letters and hyphens or not. Machine tokens are not: ISO date-times, UUIDs, long hex, snake_ids.
const PHONE_RUN = /\+?\d[\d ().\-\u2010-\u2015\u2212]*\d/g;
const DATE_TIME =
  /(?:19|20)\d{2}-(?:0[1-9]|1[0-2])-(?:0[1-9]|[12]\d|3[01])(?:[t ]\d{2}:\d{2}(?::\d{2}(?:[.,]\d{1,9})?)?(?:z|[+-]\d{2}(?::?\d{2})?)?)?(?![\d-])/g;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const ALNUM = /[\p{L}\p{N}]/u;

function machineToken(t: string, start: number, end: number, tokens: Tokens): boolean {
  if (tokens(WORD, start, end, (token) => token.includes('_'))) return true;
  return tokens(HEX_DASH, start, end, (token, a, b) => {
    if (ALNUM.test(t[a - 1] ?? ' ') || ALNUM.test(t[b] ?? ' ')) return false;
    return UUID.test(token) || (token.length >= 16 && allHex(token) && /[a-f]/.test(token));
  });
}

function phones(t: string): Hit[] {
  const scan = t.replace(DATE_TIME, (m) => 'x'.repeat(m.length));
  const hits: Hit[] = [];
  const tokens = tokenizer(t);
  for (const m of scan.matchAll(PHONE_RUN)) {
    const digits = m[0].replace(/\D/g, '');
    if (digits.length < 9 || machineToken(t, m.index, m.index + m[0].length, tokens)) continue;
    hits.push({ start: m.index, end: m.index + m[0].length, mask: () => `***-***-${digits.slice(-2)}` });
  }
  return hits;
}

type Pass = (t: string, original: (a: number, b: number) => string) => Hit[];
/** In this order, each over the text the previous one left. */
const PASSES: Pass[] = [emails, ibans, paymentIds, phones];

/** Whether `text` may hold personal data at all (false: nothing to mask, exactly). */
export function mayHoldPii(text: string): boolean {
  return (
    ASCII_TRIGGER.test(text) || (Buffer.byteLength(text, 'utf8') !== text.length && WIDE_TRIGGER.test(text))
  );
}

export function maskPii(text: string): string {
  if (!mayHoldPii(text)) return text;
  let f = fold(text);
  let out = text;
  for (const pass of PASSES) {
    const hits = pass(f.text, originalOf(out, f));
    if (hits.length === 0) continue;
    out = apply(out, f, hits);
    f = fold(out);
  }
  return out;
}

/** Deep-masks every string in a JSON-like value. */
export function maskPiiDeep<T>(value: T): T {
  if (typeof value === 'string') return maskPii(value) as T;
  if (Array.isArray(value)) return value.map((v) => maskPiiDeep(v)) as T;
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, maskPiiDeep(v)])) as T;
  }
  return value;
}
