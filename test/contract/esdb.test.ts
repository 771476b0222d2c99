/**
 * The shared event-store contract against a real EventStoreDB. There is no embedded
 * EventStoreDB, so without ESDB_CONNECTION_STRING this suite is skipped, loudly, and
 * nothing stands in for the server.
 */
import { EsdbEventStore } from '../../libs/event-store/src/esdb';
import { describeEventStoreContract } from '../../libs/event-store/src/testing/event-store.contract';

const connectionString = process.env.ESDB_CONNECTION_STRING;

if (connectionString) {
  describeEventStoreContract('EventStoreDB', async () => {
    const store = await EsdbEventStore.connect(connectionString);
    return { store, teardown: () => store.close() };
  });
} else {
  console.warn(
    'EventStoreDB contract suite NOT run: ESDB_CONNECTION_STRING is not set ' +
      '(see README: docker compose -f docker/compose.yml up -d eventstore, then npm run test:esdb)',
  );
  describe.skip('EventStoreDB contract suite (needs ESDB_CONNECTION_STRING)', () => {
    it('runs only against a real EventStoreDB', () => undefined);
  });
}
