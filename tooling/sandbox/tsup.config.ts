import { defineConfig } from 'tsup';
import { guardedBinary } from '../config/tsup.preset.ts';

// dist/bin.js checks the Node.js version (node:sqlite needs 22.13), then loads the bundle, dist/main.js.
export default defineConfig(guardedBinary('src/bin.ts'));
