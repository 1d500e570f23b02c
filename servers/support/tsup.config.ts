import { defineConfig } from 'tsup';
import { binaryPreset } from '../../tooling/config/tsup.preset.ts';

export default defineConfig(binaryPreset({ bin: 'src/bin.ts' }));
