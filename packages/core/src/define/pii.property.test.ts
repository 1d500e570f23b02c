/**
 * The masker against generated personal data: emails, phone numbers and IBANs, each spelled in many
 * encodings (fullwidth, percent, HTML entities, JSON escapes, mixed case, invisible characters) and set
 * in many contexts (prose, JSON, URLs, glued to letters or hyphens). Whatever the spelling, what the
 * identifier hides never survives: an email's local part past its first character, a phone number's
 * digits but the last two, an IBAN's digits but the last four. The check reads the output through its
 * own decoder (written apart from the masker's), so a mask that only hides one spelling fails.
 * Fixed seed, bounded runs.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { maskPii } from './pii.ts';

const RUNS = { seed: 1414, numRuns: 300 };

/** How a reader would see the text: escapes and entities decoded (3 rounds), NFKC, lower case, no invisibles. */
function reveal(text: string): string {
  let s = text;
  for (let round = 0; round < 3; round++) {
    s = s
      .replace(/&#x([0-9a-f]{1,6});?/gi, (_m, h: string) => String.fromCodePoint(Number.parseInt(h, 16)))
      .replace(/&#(\d{1,7});?/g, (_m, d: string) => String.fromCodePoint(Number(d)))
      .replace(/&commat;/gi, '@')
      .replace(/&amp;/gi, '&')
      .replace(/\\u([0-9a-f]{4})/gi, (_m, h: string) => String.fromCharCode(Number.parseInt(h, 16)))
      .replace(/(?:%[0-9a-f]{2})+/gi, (m) => {
        try {
          return decodeURIComponent(m);
        } catch {
          return m;
        }
      });
  }
  return s
    .normalize('NFKC')
    .toLowerCase()
    .replace(/\p{Default_Ignorable_Code_Point}/gu, '');
}

const count = (haystack: string, needle: string) => haystack.split(needle).length - 1;
const digitsOf = (s: string) => s.replace(/\D/g, '');

/** One character spelled another way. */
const SPELLINGS: Record<string, (c: string) => string> = {
  plain: (c) => c,
  upper: (c) => c.toUpperCase(),
  fullwidth: (c) =>
    c === ' ' ? '\u3000' : c > ' ' && c <= '~' ? String.fromCharCode(c.charCodeAt(0) + 0xfee0) : c,
  percent: (c) =>
    /[A-Za-z0-9]/.test(c) ? `%${c.charCodeAt(0).toString(16).padStart(2, '0')}` : encodeURIComponent(c),
  entity: (c) => `&#${c.codePointAt(0)};`,
  hexEntity: (c) => `&#x${c.codePointAt(0)!.toString(16)};`,
  named: (c) => (c === '@' ? '&commat;' : c === '&' ? '&amp;' : c),
  jsonEscape: (c) => (c.length === 1 ? `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}` : c),
  doublePercent: (c) => encodeURIComponent(encodeURIComponent(c)),
  hidden: (c) => `${c}\u200b`,
};
const NAMES = Object.keys(SPELLINGS);

/** A spelling plan: per character, plain or one of the chosen encodings (fast-check shrinks the choice). */
const spelled = (text: string) =>
  fc
    .tuple(fc.subarray(NAMES, { minLength: 1 }), fc.array(fc.nat(), { minLength: 64, maxLength: 64 }))
    .map(([names, picks]) =>
      [...text].map((c, i) => SPELLINGS[names[picks[i % 64]! % names.length]!]!(c)).join(''),
    );

/** Prose, JSON, URLs and glue around an identifier: no digits, no @, so whatever survives is the identifier's. */
const CONTEXTS: Array<(id: string) => string> = [
  (id) => `Please contact ${id} today.`,
  (id) => `${id}`,
  (id) => JSON.stringify({ contact: id, note: 'see ticket' }),
  (id) => `{"contact": "${id}"}`,
  (id) => `https://crm.example/customers?contact=${id}&ref=abc`,
  (id) => `mailto:${id}`,
  (id) => `tel:${id}`,
  (id) => `<a href="mailto:${id}">write</a>`,
  (id) => `call${id}now`,
  (id) => `ref-${id}-x`,
  (id) => `(${id})`,
  (id) => `contact:${id};next`,
];
const context = fc.constantFrom(...CONTEXTS);

const letters = 'abcdefghijklmnopqrstuvwxyzöéñжλ名';
const localPart = fc
  .tuple(
    fc.string({ unit: fc.constantFrom(...letters), minLength: 1, maxLength: 3 }),
    fc.string({ unit: fc.constantFrom(...`${letters}0123456789`), minLength: 3, maxLength: 12 }),
    fc.constantFrom('', '.', '+', '-', '_'),
    fc.string({ unit: fc.constantFrom(...letters), minLength: 0, maxLength: 4 }),
  )
  .map(([a, b, sep, c]) => (c ? `${a}${b}${sep}${c}` : `${a}${b}`));
const quoted = fc
  .tuple(
    fc.string({ unit: fc.constantFrom(...letters), minLength: 3, maxLength: 8 }),
    fc.string({ unit: fc.constantFrom(...letters), minLength: 1, maxLength: 8 }),
  )
  .map(([a, b]) => `"${a} ${b}"`);
const domain = fc.constantFrom(
  'acme.example',
  'mail.acme-widgets.example.com',
  'bücher.example',
  '例え.テスト',
  'xn--bcher-kva.example',
  '[192.168.10.20]',
  '[IPv6:2001:db8::1]',
  'Example.COM',
);

describe('the masker, on generated personal data in many spellings and contexts', () => {
  it('never lets an email local part through', () => {
    fc.assert(
      fc.property(
        fc.oneof(localPart, quoted).chain((local) =>
          fc.record({
            local: fc.constant(local),
            domain,
            spelledLocal: spelled(local),
            at: spelled('@'),
            wrap: context,
          }),
        ),
        ({ local, domain: host, spelledLocal, at, wrap }) => {
          const input = wrap(`${spelledLocal}${at}${host}`);
          const out = reveal(maskPii(input));
          const secret = reveal(local.startsWith('"') ? local.slice(1, -1) : local.slice(1));
          // The secret may occur in the context or domain by chance; never more often than there.
          expect(count(out, secret)).toBeLessThanOrEqual(count(reveal(wrap(`x@${host}`)), secret));
          expect(out).toContain('***');
        },
      ),
      RUNS,
    );
  });

  const phone = fc
    .tuple(
      fc.constantFrom('+1', '+44', '+49', '+353', '0', ''),
      fc.array(fc.integer({ min: 10, max: 9999 }), { minLength: 3, maxLength: 4 }),
      fc.constantFrom(' ', '-', '.', '', ' - '),
      fc.boolean(),
    )
    .map(([cc, groups, sep, parens]) => {
      const [area, ...rest] = groups.map(String);
      return `${cc}${cc ? ' ' : ''}${parens ? `(${area})` : area}${sep}${rest.join(sep)}`;
    })
    .filter((p) => digitsOf(p).length >= 9);

  it('never lets a phone number through but its last two digits', () => {
    fc.assert(
      fc.property(
        phone.chain((p) => fc.record({ p: fc.constant(p), spelledPhone: spelled(p), wrap: context })),
        ({ p, spelledPhone, wrap }) => {
          const out = reveal(maskPii(wrap(spelledPhone)));
          expect(digitsOf(out)).toBe(digitsOf(p).slice(-2));
        },
      ),
      RUNS,
    );
  });

  /** A valid IBAN of `country`: random BBAN, check digits computed (ISO 7064 MOD 97-10). */
  const iban = fc
    .tuple(
      fc.constantFrom(['GB', 22], ['DE', 22], ['FR', 27], ['NL', 18], ['ES', 24], ['NO', 15], ['MT', 31]),
      fc.string({ unit: fc.constantFrom(...'ABCDEFGHIJKLMNOPQRSTUVWXYZ'), minLength: 4, maxLength: 4 }),
      fc.array(fc.integer({ min: 0, max: 9 }), { minLength: 30, maxLength: 30 }),
      fc.boolean(),
    )
    .map(([[country, length], bank, digits, grouped]) => {
      const bban = `${bank}${digits.join('')}`.slice(0, (length as number) - 4);
      const numeric = [...`${bban}${country}00`]
        .map((c) => (c <= '9' ? c : String(c.charCodeAt(0) - 55)))
        .join('');
      const rest = [...numeric].reduce((r, d) => (r * 10 + Number(d)) % 97, 0);
      const compact = `${country}${String(98 - rest).padStart(2, '0')}${bban}`;
      return grouped ? compact.replace(/(.{4})(?=.)/g, '$1 ') : compact;
    });

  it('never lets an IBAN through but its country and last four characters', () => {
    fc.assert(
      fc.property(
        iban.chain((i) =>
          fc.record({ i: fc.constant(i), lower: fc.boolean(), wrap: context }).chain((r) =>
            fc.record({
              i: fc.constant(r.i),
              wrap: fc.constant(r.wrap),
              spelledIban: spelled(r.lower ? r.i.toLowerCase() : r.i),
            }),
          ),
        ),
        ({ i, spelledIban, wrap }) => {
          const out = reveal(maskPii(wrap(spelledIban)));
          const compact = i.replace(/ /g, '');
          expect(digitsOf(out).length).toBeLessThanOrEqual(4);
          expect(out).not.toContain(compact.slice(4, -4).toLowerCase());
        },
      ),
      RUNS,
    );
  });
});
