import { describeStoreContracts } from './support/store-contracts';
import { REDIS_URL } from './support/test-app';

/** The store contracts against the machine's Redis and the in-process twins of the embedded mode. */
describeStoreContracts(() => REDIS_URL, { memoryTwins: true });
