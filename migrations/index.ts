import { InitialSchema1763900000000 } from './1763900000000-initial-schema';
import { AuditTrail1763910000000 } from './1763910000000-audit-trail';
import { AuditActorEmailIndex1763915000000 } from './1763915000000-audit-actor-email-index';
import { RetentionIndexes1763930000000 } from './1763930000000-retention-indexes';
import { Organizations1763950000000 } from './1763950000000-organizations';
import { TokenServices1763960000000 } from './1763960000000-token-services';
import { DeviceGrants1763970000000 } from './1763970000000-device-grants';
import { LdapConnectors1764000000000 } from './1764000000000-ldap-connectors';
import { ApprovalOrigin1764100000000 } from './1764100000000-approval-origin';

/** Every migration, in order; the DataSource loads this list instead of a glob. */
export const MIGRATIONS = [
  InitialSchema1763900000000,
  AuditTrail1763910000000,
  AuditActorEmailIndex1763915000000,
  RetentionIndexes1763930000000,
  Organizations1763950000000,
  TokenServices1763960000000,
  DeviceGrants1763970000000,
  LdapConnectors1764000000000,
  ApprovalOrigin1764100000000,
];
