import { Injectable } from '@nestjs/common';
import { PassportStrategy } from '@nestjs/passport';
import { VerifiedAnswerStrategy } from '../passport-sign-in';
import type { VerifiedIdentity } from '../sso-identity';
import { type OidcChecks, type OidcConnector, OidcConnectors } from './oidc-connectors.service';

export const OIDC_STRATEGY = 'oidc';

/** What the OIDC strategy reads: the connector, the redirect the IdP sent the browser to, and what the state envelope kept. */
export interface OidcSignInRequest {
  connector: OidcConnector;
  callbackUrl: URL;
  checks: OidcChecks;
}

/** openid-client's authorization code grant with PKCE, then devicegate's own id_token signature check. */
@Injectable()
export class OidcStrategy extends PassportStrategy(VerifiedAnswerStrategy, OIDC_STRATEGY) {
  constructor(private readonly oidc: OidcConnectors) {
    super();
  }

  validate(request: OidcSignInRequest): Promise<VerifiedIdentity> {
    return this.oidc.verify(request.connector, request.callbackUrl, request.checks);
  }
}
