import { describe, expect, it } from 'vitest';
import { maskPii, maskPiiDeep } from './pii.ts';

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
