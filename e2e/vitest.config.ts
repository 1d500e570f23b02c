import { projectPreset } from '../tooling/config/vitest.preset.ts';

// Every test here goes through built binaries or real processes: the `all` tier only (pnpm test).
export default projectPreset('e2e', { kind: 'e2e' });
