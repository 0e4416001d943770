import { Injectable } from '@nestjs/common';
import { createHash } from 'node:crypto';
import { AppConfig } from '../config/app-config';
import { ConsoleView } from './console.view';
import { CONSOLE_CSS } from './console-style';

/** The console's view, built once from the connectors of the config, with its stylesheet linked by content. */
@Injectable()
export class ConsolePages {
  readonly style = CONSOLE_CSS;
  readonly view: ConsoleView;

  constructor(config: AppConfig) {
    const version = createHash('sha256').update(this.style).digest('hex').slice(0, 12);
    this.view = new ConsoleView(
      config.connectors.filter((connector) => connector.type === 'saml' || connector.type === 'oidc'),
      config.connectors.filter((connector) => connector.type === 'ldap'),
      config.connectors.some((connector) => connector.type === 'local') && config.localUsers.length > 0,
      `/console/console.css?v=${version}`,
    );
  }
}
