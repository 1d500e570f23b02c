import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { classify, declaredBumps, type Surface, satisfies } from './surface-bump.ts';

const readTool = {
  name: 'get_item',
  title: 'Item',
  description: 'Read one item.',
  annotations: { readOnlyHint: true, destructiveHint: false },
  inputSchema: {
    type: 'object',
    properties: {
      id: { type: 'string', maxLength: 64 },
      env: { type: 'string', enum: ['prod', 'staging'] },
      limit: { type: 'integer', minimum: 1, maximum: 20 },
    },
    required: ['id'],
    additionalProperties: false,
  },
  outputSchema: {
    type: 'object',
    properties: { id: { type: 'string' }, status: { type: 'string' } },
    required: ['id', 'status'],
  },
};
const base: Surface = {
  tools: [readTool],
  resources: [{ name: 'catalog', uri: 'item://catalog' }],
  resourceTemplates: [],
  prompts: [{ name: 'triage', arguments: [{ name: 'id', required: true }] }],
};
/** `base` with one tool replaced by `edit(copy of get_item)`. */
function withTool(edit: (tool: typeof readTool & Record<string, unknown>) => void): Surface {
  const tool = structuredClone(readTool) as typeof readTool & Record<string, unknown>;
  edit(tool);
  return { ...structuredClone(base), tools: [tool] };
}
const bumpOf = (after: Surface) => classify(base, after).bump;

describe('classify: major', () => {
  it('a tool removed, or renamed', () => {
    expect(bumpOf({ ...base, tools: [] })).toBe('major');
    const renamed = classify(
      base,
      withTool((t) => {
        t.name = 'fetch_item';
      }),
    );
    expect(renamed.bump).toBe('major');
    expect(renamed.changes.map((c) => c.what)).toEqual(
      expect.arrayContaining(['tool get_item removed or renamed', 'tool fetch_item added']),
    );
  });
  it('a required argument added, or an optional one made required', () => {
    expect(
      bumpOf(
        withTool((t) => {
          (t.inputSchema.properties as Record<string, unknown>).reason = { type: 'string' };
          t.inputSchema.required = ['id', 'reason'];
        }),
      ),
    ).toBe('major');
    expect(
      bumpOf(
        withTool((t) => {
          t.inputSchema.required = ['id', 'env'];
        }),
      ),
    ).toBe('major');
  });
  it('an argument removed or narrowed (enum value dropped, lower maximum, new pattern)', () => {
    expect(
      bumpOf(
        withTool((t) => {
          delete (t.inputSchema.properties as Record<string, unknown>).limit;
        }),
      ),
    ).toBe('major');
    expect(
      bumpOf(
        withTool((t) => {
          t.inputSchema.properties.env.enum = ['prod'];
        }),
      ),
    ).toBe('major');
    expect(
      bumpOf(
        withTool((t) => {
          t.inputSchema.properties.limit.maximum = 10;
        }),
      ),
    ).toBe('major');
    expect(
      bumpOf(
        withTool((t) => {
          (t.inputSchema.properties.id as Record<string, unknown>).pattern = '^[a-z]+$';
        }),
      ),
    ).toBe('major');
  });
  it('an output narrowed: field removed, no longer always present, type changed', () => {
    expect(
      bumpOf(
        withTool((t) => {
          delete (t.outputSchema.properties as Record<string, unknown>).status;
        }),
      ),
    ).toBe('major');
    expect(
      bumpOf(
        withTool((t) => {
          t.outputSchema.required = ['id'];
        }),
      ),
    ).toBe('major');
    expect(
      bumpOf(
        withTool((t) => {
          (t.outputSchema.properties.status as Record<string, unknown>).type = 'number';
        }),
      ),
    ).toBe('major');
  });
  it('a read tool turned into a write (or destructive) one', () => {
    const write = classify(
      base,
      withTool((t) => {
        t.annotations = { readOnlyHint: false, destructiveHint: false };
      }),
    );
    expect(write.bump).toBe('major');
    expect(write.changes[0]?.what).toBe('tool get_item turned from read into write');
    expect(
      bumpOf(
        withTool((t) => {
          t.annotations = { readOnlyHint: true, destructiveHint: true };
        }),
      ),
    ).toBe('major');
  });
  it('a resource or prompt removed, a prompt argument made required', () => {
    expect(bumpOf({ ...base, resources: [] })).toBe('major');
    expect(
      bumpOf({
        ...base,
        prompts: [
          {
            name: 'triage',
            arguments: [
              { name: 'id', required: true },
              { name: 'why', required: true },
            ],
          },
        ],
      }),
    ).toBe('major');
  });
});

describe('classify: minor, patch, none', () => {
  it('a tool added, an optional argument added, an argument widened, an output field added', () => {
    expect(bumpOf({ ...base, tools: [readTool, { ...readTool, name: 'list_items' }] })).toBe('minor');
    expect(
      bumpOf(
        withTool((t) => {
          (t.inputSchema.properties as Record<string, unknown>).verbose = { type: 'boolean' };
        }),
      ),
    ).toBe('minor');
    expect(
      bumpOf(
        withTool((t) => {
          t.inputSchema.properties.env.enum = ['prod', 'staging', 'dev'];
        }),
      ),
    ).toBe('minor');
    expect(
      bumpOf(
        withTool((t) => {
          t.inputSchema.properties.limit.maximum = 50;
        }),
      ),
    ).toBe('minor');
    expect(
      bumpOf(
        withTool((t) => {
          (t.outputSchema.properties as Record<string, unknown>).owner = { type: 'string' };
        }),
      ),
    ).toBe('minor');
  });
  it('a description changed is a patch; the same surface owes nothing', () => {
    expect(
      bumpOf(
        withTool((t) => {
          t.description = 'Read one item, faster.';
        }),
      ),
    ).toBe('patch');
    expect(classify(base, structuredClone(base))).toEqual({ bump: 'none', changes: [] });
  });
  it('the owed bump is the largest of all changes', () => {
    const after = withTool((t) => {
      t.description = 'x';
      t.inputSchema.required = ['id', 'limit'];
    });
    after.tools.push({ ...readTool, name: 'list_items' });
    expect(bumpOf(after)).toBe('major');
  });
});

describe('pending changesets', () => {
  const dir = mkdtempSync(join(tmpdir(), 'surface-bump-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  it('reads each package bump from the front matter, the largest wins', () => {
    mkdirSync(join(dir, '.changeset'));
    writeFileSync(join(dir, '.changeset', 'README.md'), '# not a changeset\n');
    writeFileSync(join(dir, '.changeset', 'a.md'), '---\n"@gatehouse/platform-ops": patch\n---\n\nfix\n');
    writeFileSync(
      join(dir, '.changeset', 'b.md'),
      '---\n\'@gatehouse/platform-ops\': minor\n"@gatehouse/docs": major\n---\n\nx\n',
    );
    const bumps = declaredBumps(dir);
    expect(Object.fromEntries(bumps)).toEqual({
      '@gatehouse/platform-ops': 'minor',
      '@gatehouse/docs': 'major',
    });
  });
  it('a declared bump satisfies what is owed; below 1.0.0 a minor carries breaking changes', () => {
    expect(satisfies('1.2.0', 'major', 'minor')).toBe(false);
    expect(satisfies('1.2.0', 'major', 'major')).toBe(true);
    expect(satisfies('1.2.0', 'minor', 'patch')).toBe(false);
    expect(satisfies('0.3.0', 'major', 'minor')).toBe(true);
    expect(satisfies('0.3.0', 'minor', 'none')).toBe(false);
    expect(satisfies('1.0.0', 'none', 'none')).toBe(true);
  });
});
