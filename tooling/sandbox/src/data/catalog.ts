/** The shared service catalogue: platform-ops serves it, docs ownership records mirror it. */
import { createRng } from '../prng.ts';

export const ENVIRONMENTS = ['production', 'staging', 'development'] as const;
export type Environment = (typeof ENVIRONMENTS)[number];

export interface Team {
  id: string;
  slack: string;
  rotation: string;
  members: readonly string[];
}

export const TEAMS: readonly Team[] = [
  {
    id: 'checkout',
    slack: '#team-checkout',
    rotation: 'checkout-primary',
    members: ['Priya Raman', 'Tomás Herrera', 'Lena Fischer', 'Marcus Bell'],
  },
  {
    id: 'payments',
    slack: '#team-payments',
    rotation: 'payments-oncall',
    members: ['Aisha Okafor', 'Daniel Kim', 'Sofia Marchetti', 'Owen Price'],
  },
  {
    id: 'search',
    slack: '#team-search',
    rotation: 'search-oncall',
    members: ['Hiro Tanaka', 'Grace Liu', 'Mateo Silva'],
  },
  {
    id: 'identity',
    slack: '#team-identity',
    rotation: 'identity-24x7',
    members: ['Noah Schmidt', 'Fatima Zahra', 'Ethan Brooks', 'Yuki Mori'],
  },
  {
    id: 'fulfillment',
    slack: '#team-fulfillment',
    rotation: 'fulfillment-oncall',
    members: ['Carlos Mendes', 'Hannah Weber', 'Ravi Patel'],
  },
  {
    id: 'growth',
    slack: '#team-growth',
    rotation: 'growth-business-hours',
    members: ['Chloe Martin', 'Ibrahim Haddad', 'Emma Johansson'],
  },
  {
    id: 'platform',
    slack: '#team-platform',
    rotation: 'platform-sre',
    members: ['Ana Costa', 'Jakub Nowak', 'Meera Iyer', 'Liam O’Connor'],
  },
  {
    id: 'data',
    slack: '#team-data',
    rotation: 'data-oncall',
    members: ['Zoe Adams', 'Kwame Mensah', 'Isabel Ortiz'],
  },
  {
    id: 'trust-safety',
    slack: '#team-trust-safety',
    rotation: 'trust-safety-oncall',
    members: ['Olivia Chen', 'Samuel Adeyemi', 'Nina Petrova'],
  },
  {
    id: 'messaging',
    slack: '#team-messaging',
    rotation: 'messaging-oncall',
    members: ['Lucas Dubois', 'Amara Nwosu', 'Felix Braun'],
  },
];

export type Tier = 'tier-1' | 'tier-2' | 'tier-3';

interface ServiceSeed {
  name: string;
  displayName: string;
  purpose: string;
  team: string;
  language: string;
  tier: Tier;
  dependencies: string[];
}

const SERVICE_SEEDS: readonly ServiceSeed[] = [
  {
    name: 'api-gateway',
    displayName: 'API Gateway',
    purpose: 'terminates public TLS traffic, authenticates requests and routes them to internal services',
    team: 'platform',
    language: 'Go',
    tier: 'tier-1',
    dependencies: ['auth-service', 'feature-flags'],
  },
  {
    name: 'analytics-ingest',
    displayName: 'Analytics Ingest',
    purpose: 'receives clickstream and server events and writes them to the event lake',
    team: 'data',
    language: 'Scala',
    tier: 'tier-3',
    dependencies: ['event-bus'],
  },
  {
    name: 'auth-service',
    displayName: 'Auth Service',
    purpose: 'issues and validates session and access tokens for first-party clients',
    team: 'identity',
    language: 'Go',
    tier: 'tier-1',
    dependencies: ['user-profile', 'session-store'],
  },
  {
    name: 'billing-service',
    displayName: 'Billing Service',
    purpose: 'generates invoices, manages subscriptions and applies account credits',
    team: 'payments',
    language: 'Kotlin',
    tier: 'tier-1',
    dependencies: ['ledger-service', 'tax-calculator', 'payments-gateway'],
  },
  {
    name: 'cart-service',
    displayName: 'Cart Service',
    purpose: 'stores shopping carts and computes line-item totals',
    team: 'checkout',
    language: 'TypeScript',
    tier: 'tier-1',
    dependencies: ['catalog-api', 'pricing-service', 'session-store'],
  },
  {
    name: 'catalog-api',
    displayName: 'Catalog API',
    purpose: 'serves product, variant and availability data to storefronts',
    team: 'search',
    language: 'Java',
    tier: 'tier-1',
    dependencies: ['inventory-service', 'media-transcoder'],
  },
  {
    name: 'checkout-api',
    displayName: 'Checkout API',
    purpose: 'orchestrates the checkout flow from cart to confirmed order',
    team: 'checkout',
    language: 'TypeScript',
    tier: 'tier-1',
    dependencies: ['cart-service', 'payments-gateway', 'order-service', 'fraud-detection', 'tax-calculator'],
  },
  {
    name: 'email-dispatcher',
    displayName: 'Email Dispatcher',
    purpose: 'renders transactional email templates and hands them to the mail provider',
    team: 'messaging',
    language: 'Python',
    tier: 'tier-2',
    dependencies: ['notification-service'],
  },
  {
    name: 'event-bus',
    displayName: 'Event Bus',
    purpose: 'operates the shared Kafka topics and schema registry used for asynchronous events',
    team: 'platform',
    language: 'Java',
    tier: 'tier-1',
    dependencies: [],
  },
  {
    name: 'feature-flags',
    displayName: 'Feature Flags',
    purpose: 'evaluates feature flags and experiment allocations for every service',
    team: 'platform',
    language: 'Go',
    tier: 'tier-2',
    dependencies: ['session-store'],
  },
  {
    name: 'fraud-detection',
    displayName: 'Fraud Detection',
    purpose: 'scores orders and payment attempts for fraud risk in real time',
    team: 'trust-safety',
    language: 'Python',
    tier: 'tier-1',
    dependencies: ['user-profile', 'event-bus'],
  },
  {
    name: 'inventory-service',
    displayName: 'Inventory Service',
    purpose: 'tracks stock levels and reservations across warehouses',
    team: 'fulfillment',
    language: 'Kotlin',
    tier: 'tier-1',
    dependencies: ['event-bus'],
  },
  {
    name: 'ledger-service',
    displayName: 'Ledger Service',
    purpose: 'keeps the double-entry ledger of every money movement',
    team: 'payments',
    language: 'Kotlin',
    tier: 'tier-1',
    dependencies: ['event-bus'],
  },
  {
    name: 'media-transcoder',
    displayName: 'Media Transcoder',
    purpose: 'resizes and transcodes product images and videos for the CDN',
    team: 'search',
    language: 'Rust',
    tier: 'tier-3',
    dependencies: [],
  },
  {
    name: 'notification-service',
    displayName: 'Notification Service',
    purpose: 'fans out push, SMS and email notifications according to user preferences',
    team: 'messaging',
    language: 'TypeScript',
    tier: 'tier-2',
    dependencies: ['user-profile', 'event-bus'],
  },
  {
    name: 'order-service',
    displayName: 'Order Service',
    purpose: 'owns the order lifecycle from placement to delivery',
    team: 'fulfillment',
    language: 'Java',
    tier: 'tier-1',
    dependencies: ['inventory-service', 'ledger-service', 'event-bus'],
  },
  {
    name: 'payments-gateway',
    displayName: 'Payments Gateway',
    purpose: 'authorises and captures card and bank payments through external processors',
    team: 'payments',
    language: 'Go',
    tier: 'tier-1',
    dependencies: ['ledger-service', 'fraud-detection'],
  },
  {
    name: 'pricing-service',
    displayName: 'Pricing Service',
    purpose: 'computes prices, discounts and promotions per market',
    team: 'growth',
    language: 'Kotlin',
    tier: 'tier-2',
    dependencies: ['catalog-api', 'feature-flags'],
  },
  {
    name: 'recommendation-engine',
    displayName: 'Recommendation Engine',
    purpose: 'serves personalised product recommendations',
    team: 'growth',
    language: 'Python',
    tier: 'tier-3',
    dependencies: ['catalog-api', 'analytics-ingest'],
  },
  {
    name: 'reporting-service',
    displayName: 'Reporting Service',
    purpose: 'builds scheduled business reports from the warehouse',
    team: 'data',
    language: 'Python',
    tier: 'tier-3',
    dependencies: ['analytics-ingest'],
  },
  {
    name: 'search-indexer',
    displayName: 'Search Indexer',
    purpose: 'keeps the product search index in sync with catalog changes',
    team: 'search',
    language: 'Java',
    tier: 'tier-2',
    dependencies: ['catalog-api', 'event-bus'],
  },
  {
    name: 'session-store',
    displayName: 'Session Store',
    purpose: 'provides a replicated Redis-backed session and cache layer',
    team: 'platform',
    language: 'Go',
    tier: 'tier-1',
    dependencies: [],
  },
  {
    name: 'shipping-service',
    displayName: 'Shipping Service',
    purpose: 'quotes carrier rates, buys labels and tracks parcels',
    team: 'fulfillment',
    language: 'TypeScript',
    tier: 'tier-2',
    dependencies: ['order-service'],
  },
  {
    name: 'tax-calculator',
    displayName: 'Tax Calculator',
    purpose: 'calculates sales tax and VAT for orders and invoices',
    team: 'payments',
    language: 'Java',
    tier: 'tier-2',
    dependencies: [],
  },
  {
    name: 'user-profile',
    displayName: 'User Profile',
    purpose: 'stores customer profiles, addresses and communication preferences',
    team: 'identity',
    language: 'Go',
    tier: 'tier-1',
    dependencies: ['session-store'],
  },
  {
    name: 'webhook-relay',
    displayName: 'Webhook Relay',
    purpose: 'delivers signed outbound webhooks to merchant endpoints with retries',
    team: 'messaging',
    language: 'Rust',
    tier: 'tier-2',
    dependencies: ['event-bus'],
  },
];

export interface ServiceRecord {
  name: string;
  displayName: string;
  description: string;
  tier: Tier;
  language: string;
  owner: { team: string; slack: string; onCall: { primary: string; secondary: string; rotation: string } };
  repository: string;
  dashboards: { name: string; url: string }[];
  dependencies: string[];
  environments: Environment[];
}

function teamById(id: string): Team {
  const team = TEAMS.find((t) => t.id === id);
  if (!team) throw new Error(`unknown team ${id}`);
  return team;
}

/** Builds the full, deterministic service catalogue (sorted by name). */
export function buildServices(): ServiceRecord[] {
  const rng = createRng('services');
  return [...SERVICE_SEEDS]
    .sort((a, b) => a.name.localeCompare(b.name))
    .map((s) => {
      const team = teamById(s.team);
      const [primary, secondary] = rng.sample(team.members, 2) as [string, string];
      return {
        name: s.name,
        displayName: s.displayName,
        description: `${s.displayName} ${s.purpose}. Owned by the ${team.id} team; ${s.tier} service written in ${s.language}.`,
        tier: s.tier,
        language: s.language,
        owner: { team: team.id, slack: team.slack, onCall: { primary, secondary, rotation: team.rotation } },
        repository: `https://git.example.internal/${team.id}/${s.name}`,
        dashboards: [
          { name: 'Service overview', url: `https://grafana.example.internal/d/${s.name}/overview` },
          { name: 'Latency & errors', url: `https://grafana.example.internal/d/${s.name}/red` },
          { name: 'Logs', url: `https://logs.example.internal/app/discover#/?service=${s.name}` },
        ],
        dependencies: [...s.dependencies],
        environments: [...ENVIRONMENTS],
      };
    });
}
