import { describe, expect, it } from 'vitest';
import { containsHidden, stripHidden } from './text.ts';

describe('hidden characters', () => {
  it('strips zero-width, bidi overrides, tag characters and controls but keeps text', () => {
    const hostile = `Pay\u200b now\u202e!\u{E0041}\u0007 ok\nnext\tline`;
    expect(containsHidden(hostile)).toBe(true);
    expect(stripHidden(hostile)).toBe('Pay now! ok\nnext\tline');
    expect(containsHidden(stripHidden(hostile))).toBe(false);
  });
});
