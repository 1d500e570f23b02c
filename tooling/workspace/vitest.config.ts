import { projectPreset } from '../config/vitest.preset.ts';

export default projectPreset('workspace');
