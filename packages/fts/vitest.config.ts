import { projectPreset } from '../../tooling/config/vitest.preset.ts';

export default projectPreset('fts');
