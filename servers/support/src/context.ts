import { definitionsFor } from '@gatehouse/core';
import { z } from 'zod';
import type { SupportLimits } from './config.ts';
import type { SupportApi } from './upstream.ts';

/** What every support capability receives as `ctx.deps`. */
export interface Support {
  api: SupportApi;
  limits: SupportLimits;
}

/** The support toolsets: a connection may narrow itself to some (X-Gatehouse-Toolsets, SUPPORT_TOOLSETS). */
export const TOOLSETS = {
  tickets: 'finding and reading tickets and their threads',
  customers: 'customer status and plan',
  actions: 'notes, escalations and service credits (escalations and credits approved by a human)',
} as const;

export const { tool } = definitionsFor<Support, keyof typeof TOOLSETS>();

export const SCOPES = {
  read: 'support:read',
  write: 'support:write',
  credit: 'support:credit',
  pii: 'support:pii',
} as const;

/**
 * Ids have the upstream's exact shapes, so nothing else (`../`, `?`, `%2e`,
 * CR/LF) can even reach apiPath, which would encode it anyway.
 */
export const ticketId = z
  .string()
  .min(3)
  .max(24)
  .regex(/^T-\d{1,12}$/, 'a ticket id such as "T-10001"')
  .describe('Ticket id, e.g. "T-10001".');

export const customerId = z
  .string()
  .min(5)
  .max(64)
  .regex(/^cus_[A-Za-z0-9]{1,60}$/, 'a customer id such as "cus_5c1ce897cb1566"')
  .describe('Customer id, e.g. "cus_5c1ce897cb1566".');

export const TicketStatus = z.enum(['open', 'pending', 'on_hold', 'solved', 'closed']);
export const TicketPriority = z.enum(['low', 'normal', 'high', 'urgent']);
