/** Protocol fuzzing of the stdio channel: the suite every server runs (see @gatehouse/bench/protocol). */
import { describeStdioProtocol } from '@gatehouse/bench/protocol';
import { BIN, CANARY_TOKEN, startHarness } from './harness.ts';

describeStdioProtocol({
  bin: BIN,
  prefix: 'DOCS',
  canary: CANARY_TOKEN,
  harness: startHarness,
  call: { name: 'search_docs', arguments: { query: 'postgres' } },
  slow: {
    call: { name: 'find_service_owner', arguments: { service: 'checkout-api' } },
    path: '/docs/v1/ownership/',
  },
});
