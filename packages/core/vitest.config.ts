import { projectPreset } from '../../tooling/config/vitest.preset.ts';

// In-process tests share loaded modules across files (see the preset); tracing hands its globals back on shutdown.
export default projectPreset('core', { isolate: false });
