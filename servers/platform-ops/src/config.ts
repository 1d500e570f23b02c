import { z } from 'zod';

/** platform-ops needs nothing beyond the common PLATFORM_OPS_* variables (see core's config). */
export const env = z.object({});
export const ENV_PREFIX = 'PLATFORM_OPS';
