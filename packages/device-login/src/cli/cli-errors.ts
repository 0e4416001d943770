import { DeviceLoginError } from '../errors';

/** A command line the CLI cannot run: unknown command or option, a missing or bad value. */
export class UsageError extends DeviceLoginError {
  constructor(message: string) {
    super('usage', message);
  }
}

/** `audit verify` found a break in the digest chain. */
export class AuditChainBroken extends DeviceLoginError {
  constructor(message: string) {
    super('audit_chain_broken', message);
  }
}
