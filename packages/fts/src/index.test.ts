import { describe, expect, it } from 'vitest';
import { ftsQuery } from './index.ts';

describe('ftsQuery', () => {
  it('quotes each distinct lower-cased word and ORs them', () => {
    expect(ftsQuery('Kafka kafka Events!')).toBe('"kafka" OR "events"');
  });
  it('keeps FTS5 syntax out: operators, quotes and column filters become plain words', () => {
    expect(ftsQuery('title:"x" AND NOT y* (z)')).toBe('"title" OR "x" OR "and" OR "not" OR "y" OR "z"');
  });
  it('keeps letters and digits of any script, at most 16 words', () => {
    expect(ftsQuery('Größe 42 日本')).toBe('"größe" OR "42" OR "日本"');
    expect(ftsQuery(Array.from({ length: 30 }, (_, i) => `w${i}`).join(' '))?.split(' OR ')).toHaveLength(16);
  });
  it('returns undefined when no searchable word remains', () => {
    expect(ftsQuery('  --- ** ')).toBeUndefined();
    expect(ftsQuery('')).toBeUndefined();
  });
});
