import { InitialSchema1763900000000 } from './1763900000000-initial-schema';

/** Every migration, in order; the DataSource loads this list instead of a glob. */
export const MIGRATIONS = [InitialSchema1763900000000];
