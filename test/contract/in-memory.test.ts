import { InMemoryEventStore } from '@kcflow/event-store';
import { describeEventStoreContract } from '../../libs/event-store/src/testing/event-store.contract';

describeEventStoreContract('InMemoryEventStore', async () => {
  const store = new InMemoryEventStore();
  return { store, teardown: () => store.close() };
});
