import { describe, expect, it } from 'vitest';
import { toolsOf } from '../call/definition.ts';
import { templateShapeProblems, tokenBudgetProblems, toolTokens } from './index.ts';

describe('template shapes the registry check refuses', () => {
  it('names two expressions in one segment and a reserved expansion before the last', () => {
    expect(templateShapeProblems('docs://{+path}')).toEqual([]);
    expect(templateShapeProblems('catalog://services/{service}/{environment}')).toEqual([]);
    expect(templateShapeProblems('x://{a}{b}')).toEqual(['several expressions in segment {a}{b}']);
    expect(templateShapeProblems('x://{a}-{b}/c')).toHaveLength(1);
    expect(templateShapeProblems('x://{+a}/{b}')).toEqual(['reserved expression {+a} is not the last']);
  });
});

describe('the per-tool token budget', () => {
  it('passes the fixture and names a tool whose description pushes it past 300 model-visible tokens', async () => {
    const { fixture } = await import('./fixture/server.ts');
    expect(await tokenBudgetProblems(fixture)).toEqual([]);
    const [status] = toolsOf(fixture);
    const wordy = { ...status!, description: 'Reads the status of one item. '.repeat(60) };
    const bloated = { ...fixture, tools: [wordy] };
    expect(await tokenBudgetProblems(bloated)).toEqual([
      expect.stringMatching(
        /^tool get_item_status: \d+ model-visible tokens .* over the budget of 300; trim its description$/,
      ),
    ]);
  });

  it('counts the output schema apart from what the model reads', async () => {
    const [tokens] = await toolTokens([
      {
        name: 'a',
        title: 'A',
        description: 'x',
        inputSchema: { type: 'object' },
        outputSchema: { type: 'object' },
      },
    ]);
    expect(tokens).toMatchObject({ name: 'a', visible: expect.any(Number), output: expect.any(Number) });
    expect(tokens!.output).toBeGreaterThan(0);
    expect(tokens!.output).toBeLessThan(tokens!.visible);
  });
});
