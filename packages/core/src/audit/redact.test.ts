import { describe, expect, it } from 'vitest';
import { redactArgs } from './redact.ts';

describe('audit log', () => {
  it('redacts secrets and sensitive fields, masks personal data, bounds long values', () => {
    const out = redactArgs(
      {
        token: 't',
        nested: { Authorization: 'Bearer x' },
        note: 'mail a@b.example',
        reason: 'why',
        long: 'y'.repeat(2000),
      },
      ['reason'],
    );
    expect(out).toMatchObject({
      token: '[REDACTED]',
      nested: { Authorization: '[REDACTED]' },
      note: 'mail a***@b.example',
      reason: '[REDACTED]',
    });
    expect(String((out as { long: string }).long).length).toBeLessThan(600);
  });
});
