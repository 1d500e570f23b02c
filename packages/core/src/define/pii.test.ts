import { describe, expect, it } from 'vitest';
import { maskPii, maskPiiDeep, mayHoldPii } from './pii.ts';

describe('personal data masking', () => {
  it.each([
    ['mail jane.doe@acme.example now', 'mail j***@acme.example now'],
    ['call +1 (415) 555-0100 today', 'call ***-***-00 today'],
    ['card pm_card_visa_4242', 'card pm_****4242'],
    ['iban GB29NWBK60161331926819', 'iban GB** **** 6819'],
    ['order 12345 shipped', 'order 12345 shipped'],
  ])('%s', (input, expected) => {
    expect(maskPii(input)).toBe(expected);
  });

  it('masks deeply', () => {
    expect(maskPiiDeep({ a: ['x@y.example'], b: { c: 1 } })).toEqual({ a: ['x***@y.example'], b: { c: 1 } });
  });
});

describe('personal data in other spellings (normalised, masked in the original text)', () => {
  it.each([
    ['a lowercase IBAN', 'iban gb29nwbk60161331926819', 'iban GB** **** 6819'],
    ['an IBAN in groups of four', 'IBAN: DE89 3704 0044 0532 0130 00.', 'IBAN: DE** **** 3000.'],
    ['a mixed-case IBAN glued to letters', 'ibanFr7630006000011234567890189x', 'ibanFR** **** 0189x'],
    ['a phone number glued to letters', 'call4155550100now', 'call***-***-00now'],
    ['a phone number between hyphens', 'ref-415-555-0100-x', 'ref-***-***-00-x'],
    [
      'fullwidth @ and digits',
      'ｊａｎｅ＠ａｃｍｅ.example ＋１ ４１５ ５５５ ０１００',
      'ｊ***＠ａｃｍｅ.example ***-***-00',
    ],
    ['circled digits', 'call ①②③④⑤⑥⑦⑧⑨⑩', 'call ***-***-10'],
    ['a quoted local part', 'to "john doe"@example.com', 'to "***@example.com'],
    ['an IP-literal domain', 'root@[IPv6:2001:db8::1]', 'r***@[IPv6:2001:db8::1]'],
    ['an IDN domain', 'x.y@bücher.example, z@例え.テスト', 'x***@bücher.example, z***@例え.テスト'],
    ['a partly unicode local part', 'jöhn.dœ@acme.example', 'j***@acme.example'],
    ['a percent-encoded @', '?to=jane%40acme.example&x=1', '?to=j***%40acme.example&x=1'],
    ['a doubly percent-encoded @', 'mailto%3Ajane%2540acme.example', 'mailto%3Aj***%2540acme.example'],
    [
      'an entity @',
      'jane&#64;acme.example or jane&commat;acme.example',
      'j***&#64;acme.example or j***&commat;acme.example',
    ],
    ['entities throughout', '&#x6A;ane&#x40;acme.example', '&#x6A;***&#x40;acme.example'],
    ['a JSON escape', '{"to":"jane\\u0040acme.example"}', '{"to":"j***\\u0040acme.example"}'],
    ['an invisible character inside', 'ja\u200bne@acme.example', 'j***@acme.example'],
    ['a fullwidth payment id', 'pm＿card＿visa＿4242', 'pm_****4242'],
  ])('%s', (_label, input, expected) => {
    expect(maskPii(input)).toBe(expected);
  });

  it.each([
    ['a UUID', 'req 550e8400-e29b-41d4-a716-446655440000 done'],
    ['a hex digest', 'sha256 8dad759fba83615bf2ca2756e62b8efed8746963880f8f7bd2bf509628610f4f'],
    ['an ISO date-time with nanoseconds', 'at 2024-05-01T09:14:00.123456789Z'],
    ['snake_case ids', 'dep_123456789012 cus_5c1ce897cb1566'],
    ['a ticket id', 'T-10001'],
    ['a short number', 'order 12345 shipped, 12.5% off'],
  ])('leaves %s alone', (_label, input) => {
    expect(maskPii(input)).toBe(input);
  });
});

describe('the fast path', () => {
  it('skips exactly the text no pattern can match: every character that folds into a trigger is seen', () => {
    const missed: string[] = [];
    for (let cp = 0x80; cp <= 0x10ffff; cp++) {
      if (cp >= 0xd800 && cp <= 0xdfff) continue;
      const c = String.fromCodePoint(cp);
      if (/[@0-9_&%\\]/.test(c.normalize('NFKC').toLowerCase()) && !mayHoldPii(`x${c}y`))
        missed.push(cp.toString(16));
    }
    expect(missed).toEqual([]);
    expect(mayHoldPii('the customer reports that the dashboard is slow — café crème.')).toBe(false);
  });

  it.each([
    ['letters then a digit', () => `${'a'.repeat(1_000_000)}1`],
    ['at signs', () => 'a@'.repeat(500_000)],
    ['one long hex token of digit runs', () => '0123456789abcdef'.repeat(62_500)],
    ['glued IBAN candidates', () => 'gb29nwbk60161331926819'.repeat(45_000)],
    ['nested escapes', () => '%2525252540&amp;amp;#64;'.repeat(40_000)],
    ['digits and separators', () => '1 '.repeat(500_000)],
  ])('stays linear on 1 MB of %s', (_label, make) => {
    const text = make();
    const started = performance.now();
    maskPii(text);
    // Linear work is well under a second here; a quadratic scan of 1 MB would take minutes.
    expect(performance.now() - started).toBeLessThan(5_000);
  });
});
