import { runServer } from '@gatehouse/core';
import { createSupportServer, limitsFromEnv } from './index.ts';

await runServer(createSupportServer(limitsFromEnv(process.env)));
