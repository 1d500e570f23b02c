import { runServer } from '@gatehouse/core';
import support from './index.ts';

await runServer(support);
