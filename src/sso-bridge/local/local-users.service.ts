import { Injectable } from '@nestjs/common';
import { hashPasswordSync, verifyPassword } from '../../common/crypto';
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

  constructor(config: AppConfig) {
    this.users = new Map(config.localUsers.map((user) => [user.username.toLowerCase(), user]));
    this.connector = config.connectors.find((connector) => connector.type === 'local');
  }

  async verify(username: string, password: string): Promise<LocalUser | undefined> {
    const user = this.users.get(username.toLowerCase());
    const matches = await verifyPassword(password, user?.passwordHash ?? this.decoyHash);
    return user && matches ? user : undefined;
  }
}
