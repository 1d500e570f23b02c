import { describe, expect, it } from 'vitest';
import { ConfigError } from './env.ts';
import { assertKnownNames, closest } from './names.ts';

describe('names in configuration', () => {
  it('finds the nearest valid name', () => {
    expect(closest('rolback_deploy', ['get_service_health', 'rollback_deploy'])).toBe('rollback_deploy');
    expect(closest('SUPPORT:PII', ['support:read', 'support:pii'])).toBe('support:pii');
  });

  it('accepts known names and refuses the first unknown one with one line', () => {
    expect(() => assertKnownNames('X_DENY_TOOLS', 'tool', ['a_tool'], ['a_tool', 'b_tool'])).not.toThrow();
    expect(() => assertKnownNames('X_DENY_TOOLS', 'tool', [], ['a_tool'])).not.toThrow();
    const refusal = () => assertKnownNames('X_DENY_TOOLS', 'tool', ['a_tool', 'b_tol'], ['a_tool', 'b_tool']);
    expect(refusal).toThrow(ConfigError);
    expect(refusal).toThrow(
      'X_DENY_TOOLS names an unknown tool "b_tol" (did you mean "b_tool"?); valid: a_tool, b_tool',
    );
  });
});
