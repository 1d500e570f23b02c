import { runServer } from '@gatehouse/core';
import docs from './index.ts';

await runServer(docs);
