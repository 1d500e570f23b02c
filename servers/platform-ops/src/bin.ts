import { runServer } from '@gatehouse/core';
import platformOps from './index.ts';

await runServer(platformOps);
