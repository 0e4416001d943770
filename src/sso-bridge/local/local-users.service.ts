import { Injectable } from '@nestjs/common';
import { deriveKey, hashPasswordSync, hmacSha256, verifyPassword } from '../../common/crypto';
import { AppConfig, type ConnectorDefinition, type LocalUser } from '../../config/app-config';

/** Static users of the config file: the `local` connector. */
@Injectable()
export class LocalUsersService {
  private readonly users: Map<string, LocalUser>;
  /**
   * The local connector: its id and organization go with every sign-in.
   * Undefined when there are no local users (the config adds or requires
   * one exactly when there are), and then the connector is off.
   */
  readonly connector: ConnectorDefinition | undefined;
  // Verified against when the user is unknown, so both answers take as long.
  private readonly decoyHash = hashPasswordSync('decoy');
  private readonly auditKey: { id: string; key: Buffer };

  constructor(config: AppConfig) {
    this.auditKey = { id: config.secretKeys[0].id, key: deriveKey(config.secretKeys[0].secret, 'audit-username') };
    this.users = new Map(config.localUsers.map((user) => [user.username.toLowerCase(), user]));
    this.connector = config.connectors.find((connector) => connector.type === 'local');
  }

  /**
   * What the audit trail may say about the name typed at a failed sign-in:
   * the name of a known user, otherwise (people type passwords there) only
   * a keyed hash, the same for the same text under the same key, so
   * repeated attempts can be told apart without anyone reading them.
   */
  auditedUsername(username: string): { username: string } | { username_hmac: string } {
    const user = this.users.get(username.toLowerCase());
    if (user) return { username: user.username };
    return { username_hmac: `${this.auditKey.id}:${hmacSha256(this.auditKey.key, username)}` };
  }

  async verify(username: string, password: string): Promise<LocalUser | undefined> {
    const user = this.users.get(username.toLowerCase());
    const matches = await verifyPassword(password, user?.passwordHash ?? this.decoyHash);
    return user && matches ? user : undefined;
  }
}
