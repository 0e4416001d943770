import { Injectable } from '@nestjs/common';
import { AuditService } from '../audit/audit.service';
import { randomToken } from '../common/crypto';
import type { ResponseHeaders } from '../common/http';
import { InvalidRequest, NotFound, SignInRejected } from '../common/oauth-errors';
import type { ConnectorDefinition } from '../config/app-config';
import { DeviceFlowService } from '../device-flow/device-flow.service';
import { OrganizationDirectory } from '../organizations/organization-directory.service';
import { OidcConnectors } from './oidc/oidc-connectors.service';
import { SamlConnectors } from './saml/saml-connectors.service';
import { SignInService } from './sign-in.service';
import type { VerifiedIdentity } from './sso-identity';
import { SsoStateService, type SsoTransaction } from './sso-state.service';

export interface InitiateRequest {
  userCode: string;
  connector?: string;
  email?: string;
}

type SsoConnector = Exclude<ConnectorDefinition, { type: 'local' }>;

/**
 * The trip to a company's identity provider: out with a signed state
 * envelope, back with a verified assertion, ending like every connector in
 * the approval-grant cookie. The device code is never touched here, so any
 * failure leaves it pending.
 */
@Injectable()
export class SsoService {
  constructor(
    private readonly directory: OrganizationDirectory,
    private readonly deviceFlow: DeviceFlowService,
    private readonly state: SsoStateService,
    private readonly samlConnectors: SamlConnectors,
    private readonly oidcConnectors: OidcConnectors,
    private readonly signIn: SignInService,
    private readonly audit: AuditService,
  ) {}

  /** Where to send the browser to sign in for a pending code: the connector named, or the one of the email's domain. */
  async initiate(request: InitiateRequest): Promise<string> {
    const connector = this.resolve(request);
    const pending = await this.deviceFlow.findPendingChargingBudget(request.userCode, 'sign_in');
    await this.signIn.assertMayApprove(connector.id, connector.organizationId, pending);
    const transaction: SsoTransaction = { userCode: pending.userCode, connectorId: connector.id };
    let url: string;
    if (connector.type === 'saml') {
      transaction.samlRequestId = `_${randomToken(20)}`;
      const envelope = await this.state.begin(transaction, pending.flow.expiresAt);
      url = await this.samlConnectors.authorizeUrl(connector, transaction.samlRequestId, envelope);
    } else {
      transaction.codeVerifier = randomToken(32);
      transaction.oidcNonce = randomToken(16);
      const envelope = await this.state.begin(transaction, pending.flow.expiresAt);
      url = await this.oidcConnectors.authorizeUrl(connector, {
        state: envelope,
        codeVerifier: transaction.codeVerifier,
        nonce: transaction.oidcNonce,
      });
    }
    await this.audit.record({
      type: 'sso.initiated',
      outcome: 'success',
      organizationId: connector.organizationId,
      clientId: pending.client.clientId,
      deviceLabel: pending.flow.deviceLabel,
      details: { connector: connector.id, connector_type: connector.type, routed_by: request.connector ? 'connector' : 'email' },
    });
    return url;
  }

  /** The SAML ACS: RelayState is the envelope, SAMLResponse the IdP's signed answer. */
  completeSaml(connectorId: string, body: { SAMLResponse?: string; RelayState?: string }, headers: ResponseHeaders): Promise<void> {
    const connector = this.connector(connectorId, 'saml');
    return this.complete(connector, body.RelayState, headers, (transaction) =>
      this.samlConnectors.verify(connector, body.SAMLResponse, transaction.samlRequestId),
    );
  }

  /** The OIDC redirect URI: `state` is the envelope; code, `iss` or an error come from the IdP. */
  completeOidc(connectorId: string, callbackUrl: URL, headers: ResponseHeaders): Promise<void> {
    const connector = this.connector(connectorId, 'oidc');
    const state = callbackUrl.searchParams.get('state') ?? undefined;
    return this.complete(connector, state, headers, (transaction) => {
      if (!transaction.codeVerifier || !transaction.oidcNonce) {
        throw new SignInRejected('pkce_verifier_missing', 'This sign-in cannot be completed; start again from the device page');
      }
      return this.oidcConnectors.verify(connector, callbackUrl, {
        state: state as string,
        codeVerifier: transaction.codeVerifier,
        nonce: transaction.oidcNonce,
      });
    });
  }

  private async complete(
    connector: SsoConnector,
    envelope: string | undefined,
    headers: ResponseHeaders,
    verify: (transaction: SsoTransaction) => Promise<VerifiedIdentity>,
  ): Promise<void> {
    let identity: VerifiedIdentity;
    let transaction: SsoTransaction | undefined;
    try {
      transaction = await this.state.finish(envelope, connector.id);
      identity = await verify(transaction);
    } catch (error) {
      if (error instanceof SignInRejected) {
        const pending = transaction && (await this.deviceFlow.peekPending(transaction.userCode));
        await this.signIn.reject(connector.id, error.reason, pending);
      }
      throw error;
    }
    const pending = await this.deviceFlow.findPendingOfVerifiedCode(transaction.userCode, 'sign_in');
    await this.signIn.complete(connector.id, { ...identity, organizationId: connector.organizationId }, pending, headers);
  }

  private resolve(request: InitiateRequest): SsoConnector {
    if (request.connector) return this.connector(request.connector);
    if (!request.email) throw new InvalidRequest('Name a connector or give your email address');
    const connector = this.directory.connectorForEmail(request.email);
    if (!connector || connector.type === 'local') {
      throw new NotFound('No single sign-on is set up for that email domain; check the address or ask your administrator');
    }
    return connector;
  }

  private connector<T extends SsoConnector['type']>(id: string, type?: T): Extract<SsoConnector, { type: T }> {
    const connector = this.directory.connector(id);
    if (!connector || connector.type === 'local' || (type && connector.type !== type)) {
      throw new NotFound(`There is no ${type ? `${type.toUpperCase()} ` : 'single sign-on '}connector "${id.slice(0, 64)}"`);
    }
    return connector as Extract<SsoConnector, { type: T }>;
  }
}
