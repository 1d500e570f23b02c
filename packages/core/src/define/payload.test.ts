import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { decodeCursor, encodeCursor, sliceText, TRUNCATION_MARKER } from './payload.ts';

describe('sliceText', () => {
  it('returns short text whole', () => {
    expect(sliceText('hello', 100)).toEqual({
      text: 'hello',
      truncated: false,
      nextCursor: null,
      totalBytes: 5,
    });
  });

  it('reassembles a long multi-byte text exactly from its parts, each within budget', () => {
    const text = Array.from({ length: 400 }, (_, i) => `line ${i}: ünïcødé 😀 ${'x'.repeat(i % 37)}`).join(
      '\n',
    );
    let cursor: string | undefined;
    let rebuilt = '';
    for (let i = 0; i < 1000; i++) {
      const part = sliceText(text, 1024, cursor);
      const body = part.truncated ? part.text.slice(0, -TRUNCATION_MARKER.length) : part.text;
      expect(Buffer.byteLength(body)).toBeLessThanOrEqual(1024);
      rebuilt += body;
      if (!part.nextCursor) break;
      expect(part.text.endsWith(TRUNCATION_MARKER)).toBe(true);
      cursor = part.nextCursor;
    }
    expect(rebuilt).toBe(text);
  });

  it('rejects a forged cursor with INVALID_ARGUMENT', () => {
    expect(() => sliceText('abc', 10, 'not-a-cursor')).toThrow(/cursor/);
    expect(() => sliceText('abc', 10, encodeCursor({ o: 99 }))).toThrow(/past the end/);
    expect(() => decodeCursor(encodeCursor({ o: -1 }), z.object({ o: z.number().min(0) }))).toThrow(/cursor/);
  });
});
