import { defineConfig } from 'tsup';
import { guardedBinary } from '../../tooling/config/tsup.preset.ts';

// dist/bin.js checks the Node.js version, then loads the bundle, dist/main.js.
export default defineConfig(guardedBinary('src/bin.ts'));
