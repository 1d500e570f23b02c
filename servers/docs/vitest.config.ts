import { projectPreset } from '../../tooling/config/vitest.preset.ts';

// In-process tests share loaded modules across files (see the preset); nothing here sets process-wide state.
export default projectPreset('docs', { isolate: false });
