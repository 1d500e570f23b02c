import { defineConfig } from 'tsup';
import { binaryPreset } from '../../tooling/config/tsup.preset.ts';

// `node:sqlite` only exists with its `node:` prefix, which tsup strips by default.
export default defineConfig(binaryPreset({ bin: 'src/bin.ts' }, { removeNodeProtocol: false }));
