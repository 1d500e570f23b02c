import { describe, expect, it } from 'vitest';
import { normaliseDate, normaliseStatus, parseMarkdown, splitFrontMatter } from './parse.ts';

type Adr = [path: string, text: string, fields: object];

/** ADRs as people write them: path, text, and what parsing must make of them. */
const ADRS = {
  frontMatter: [
    'adr/0012-x.md',
    '---\ntitle: X\nstatus: SUPERSEDED\ndate: 2023-04-01\nsuperseded_by: ADR-0014\n---\n# X\n',
    { kind: 'adr', number: 12, status: 'superseded', date: '2023-04-01', supersededBy: 14 },
  ],
  nygard: [
    'decisions/0003-use-x.md',
    '# 3. Use X\n\nDate: 2020-01-02\n\n## Status\n\nAccepted\n\n## Context\n\nc\n\n## Decision\n\nd\n',
    { kind: 'adr', number: 3, title: 'Use X', status: 'accepted', date: '2020-01-02' },
  ],
  madr: [
    'docs/0004-use-y.md',
    '# Use Y\n\n* Status: proposed\n* Date: 2022-02-03\n\n## Context and Problem Statement\n\n...\n',
    { kind: 'adr', number: 4, status: 'proposed', date: '2022-02-03' },
  ],
} satisfies Record<string, Adr>;

function expectAdr([path, text, fields]: Adr): void {
  expect(parseMarkdown(path, text)).toMatchObject(fields);
}

describe('front matter as people write it', () => {
  it('keeps unquoted dates usable and normalises status case', () => {
    expectAdr(ADRS.frontMatter);
    expect(normaliseDate(new Date(Date.UTC(2021, 5, 15)))).toBe('2021-06-15');
    expect(normaliseDate('2021-6-5')).toBe('2021-06-05');
    expect(normaliseDate('2021/06/15')).toBe('2021-06-15');
    expect(normaliseDate('2021-02-30')).toBeNull();
    expect(normaliseDate('2021-06-15 10:30')).toMatch(/^2021-06-15T\d\d:30:00.000Z$/);
    expect(normaliseDate('last tuesday')).toBeNull();
    expect(normaliseStatus('Accepted')).toBe('accepted');
    expect(normaliseStatus('**Superseded** by ADR-0007')).toBe('superseded');
    expect(normaliseStatus('Approved')).toBe('accepted');
  });

  it('reads ADRs without front matter (Nygard and MADR styles)', () => {
    expectAdr(ADRS.nygard);
    expectAdr(ADRS.madr);
  });

  it('survives broken YAML, CRLF, a BOM and headings inside code fences', () => {
    const broken = splitFrontMatter('---\ntitle: [unclosed\n---\nbody');
    expect(broken.data).toEqual({});
    expect(broken.warning).toMatch(/not valid YAML/);
    expect(broken.body).toBe('body');
    const crlf = parseMarkdown(
      'guides/a.md',
      '\uFEFF---\r\ntitle: Windows\r\ntags: a, b\r\n---\r\n# Heading\r\n\r\n```\r\n# not a heading\r\n```\r\n## Real\r\n',
    );
    expect(crlf).toMatchObject({ title: 'Windows', tags: ['a', 'b'], kind: 'guide' });
    expect(crlf.headings.map((h) => h.text)).toEqual(['Heading', 'Real']);
  });
});
