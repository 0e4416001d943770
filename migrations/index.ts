import { InitialSchema1763900000000 } from './1763900000000-initial-schema';
import { AuditTrail1763910000000 } from './1763910000000-audit-trail';

/** Every migration, in order; the DataSource loads this list instead of a glob. */
export const MIGRATIONS = [InitialSchema1763900000000, AuditTrail1763910000000];
