/** Protocol fuzzing of the stdio channel: the suite every server runs (see @gatehouse/bench/protocol). */
import { describeStdioProtocol } from '@gatehouse/bench/protocol';
import { BIN, CANARY, startHarness } from './harness.ts';

describeStdioProtocol({
  bin: BIN,
  prefix: 'SUPPORT',
  canary: CANARY,
  harness: startHarness,
  call: { name: 'search_tickets', arguments: { query: 'refund' } },
  slow: { call: { name: 'search_tickets', arguments: { query: 'refund' } }, path: '/support/v1/tickets' },
});
