import { z } from 'zod';

export const ENV_PREFIX = 'SUPPORT';

/** The upstream's own sanity ceiling for one credit (openapi: CreditRequest.amountCents maximum). */
const UPSTREAM_MAX_CREDIT_CENTS = 1_000_000;
const DEFAULT_MAX_CREDIT_CENTS = 10_000;

/** support's own variables, beside the common SUPPORT_* ones (see core's config). */
export const env = z.object({
  SUPPORT_MAX_CREDIT_CENTS: z.coerce
    .number()
    .int()
    .min(1)
    .max(UPSTREAM_MAX_CREDIT_CENTS)
    .default(DEFAULT_MAX_CREDIT_CENTS)
    .describe(
      `Largest service credit one call may issue, in cents (default ${DEFAULT_MAX_CREDIT_CENTS} = $${DEFAULT_MAX_CREDIT_CENTS / 100})`,
    ),
});

/** Policy limits that shape the tool surface itself (the credit tool's input schema). */
export interface SupportLimits {
  maxCreditCents: number;
}
