import { describe, expect, it } from 'vitest';
import { templateShapeProblems } from './index.ts';

describe('template shapes the registry check refuses', () => {
  it('names two expressions in one segment and a reserved expansion before the last', () => {
    expect(templateShapeProblems('docs://{+path}')).toEqual([]);
    expect(templateShapeProblems('catalog://services/{service}/{environment}')).toEqual([]);
    expect(templateShapeProblems('x://{a}{b}')).toEqual(['several expressions in segment {a}{b}']);
    expect(templateShapeProblems('x://{a}-{b}/c')).toHaveLength(1);
    expect(templateShapeProblems('x://{+a}/{b}')).toEqual(['reserved expression {+a} is not the last']);
  });
});
