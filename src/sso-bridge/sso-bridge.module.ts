import { Module } from '@nestjs/common';
import { AuditModule } from '../audit/audit.module';
import { ConsoleSessionModule } from '../console/session/console-session.module';
import { DeviceFlowModule } from '../device-flow/device-flow.module';
import { OrganizationsModule } from '../organizations/organizations.module';
import { TokensModule } from '../tokens/tokens.module';
import { ApprovalController } from './approval.controller';
import { ApprovalGrantService } from './approval-grant.service';
import { ApprovalService } from './approval.service';
import { LdapConnectors } from './ldap/ldap-connectors.service';
import { LdapLoginController } from './ldap/ldap-login.controller';
import { LdapStrategy } from './ldap/ldap.strategy';
import { LocalLoginController } from './local/local-login.controller';
import { LocalUsersService } from './local/local-users.service';
import { LocalStrategy } from './local/local.strategy';
import { OidcConnectors } from './oidc/oidc-connectors.service';
import { OidcStrategy } from './oidc/oidc.strategy';
import { SamlConnectors } from './saml/saml-connectors.service';
import { SamlStrategy } from './saml/saml.strategy';
import { SignInService } from './sign-in.service';
import { SsoController } from './sso.controller';
import { SsoService } from './sso.service';
import { SsoStateService } from './sso-state.service';

@Module({
  imports: [AuditModule, DeviceFlowModule, TokensModule, OrganizationsModule, ConsoleSessionModule],
  controllers: [ApprovalController, LocalLoginController, LdapLoginController, SsoController],
  providers: [
    ApprovalGrantService,
    ApprovalService,
    SignInService,
    LocalUsersService,
    SsoStateService,
    SsoService,
    SamlConnectors,
    OidcConnectors,
    LocalStrategy,
    SamlStrategy,
    OidcStrategy,
    LdapStrategy,
    LdapConnectors,
  ],
  exports: [SsoService, SignInService, LocalUsersService, LdapConnectors],
})
export class SsoBridgeModule {}
