import { Injectable, Logger } from '@nestjs/common';
import { AuditService } from '../audit/audit.service';
import { randomToken } from '../common/crypto';
import type { RequestContext } from '../common/request-context';
import type { ResponseHeaders } from '../common/http';
import { InvalidRequest, NotFound, SignInRejected } from '../common/oauth-errors';
import type { ConnectorDefinition } from '../config/app-config';
import { DeviceFlowService } from '../device-flow/device-flow.service';
import { OrganizationDirectory } from '../organizations/organization-directory.service';
import { CounterStore } from '../redis/once.store';
import { OidcConnectors } from './oidc/oidc-connectors.service';
import { OIDC_STRATEGY, type OidcSignInRequest } from './oidc/oidc.strategy';
import { authenticateWith } from './passport-sign-in';
import { SamlConnectors } from './saml/saml-connectors.service';
import { SignInService } from './sign-in.service';
import type { VerifiedIdentity } from './sso-identity';
import { type SignInPurpose, SsoStateService, type SsoTransaction } from './sso-state.service';

export interface InitiateRequest {
  userCode: string;
  connector?: string;
  email?: string;
}

/** Connectors that sign in at an identity provider elsewhere; local and LDAP ones take a password on our page. */
type SsoConnector = Extract<ConnectorDefinition, { type: 'saml' | 'oidc' }>;
const isSso = (connector: ConnectorDefinition | undefined): connector is SsoConnector => connector?.type === 'saml' || connector?.type === 'oidc';

/** One probe of an unknown connector's ACS or callback is recorded per client IP and window; the rest of the window is not. */
const PROBE_WINDOW_MS = 60_000;

/**
 * The trip to a company's identity provider: out with a signed state
 * envelope, back with a verified assertion, ending like every connector in
 * the approval-grant cookie for a user code, or in a console session when
 * the trip began at the console. The device code is never touched here, so
 * any failure leaves it pending.
 */
@Injectable()
export class SsoService {
  private readonly logger = new Logger('SsoService');

  constructor(
    private readonly directory: OrganizationDirectory,
    private readonly deviceFlow: DeviceFlowService,
    private readonly state: SsoStateService,
    private readonly samlConnectors: SamlConnectors,
    private readonly oidcConnectors: OidcConnectors,
    private readonly signIn: SignInService,
    private readonly audit: AuditService,
    private readonly counters: CounterStore,
  ) {}

  /** Where to send the browser to sign in for a pending code: the connector named, or the one of the email's domain. */
  async initiate(origin: RequestContext, request: InitiateRequest): Promise<string> {
    const connector = this.resolve(request);
    const pending = await this.deviceFlow.findPendingChargingBudget(origin, request.userCode, 'sign_in');
    await this.signIn.assertMayApprove(origin, connector.id, connector.organizationId, pending);
    const url = await this.authorizeUrl(connector, { purpose: 'approval', userCode: pending.userCode, connectorId: connector.id }, pending.flow.expiresAt);
    await this.audit.record({
      origin,
      type: 'sso.initiated',
      outcome: 'success',
      organizationId: connector.organizationId,
      clientId: pending.client.clientId,
      deviceLabel: pending.flow.deviceLabel,
      details: { connector: connector.id, connector_type: connector.type, routed_by: request.connector ? 'connector' : 'email' },
    });
    return url;
  }

  /** Where to send the browser to sign in to the console through an SSO connector. */
  async initiateConsole(origin: RequestContext, connectorId: string): Promise<string> {
    const connector = this.connector(connectorId);
    const url = await this.authorizeUrl(connector, { purpose: 'console', connectorId: connector.id }, Infinity);
    await this.audit.record({
      origin,
      type: 'sso.initiated',
      outcome: 'success',
      organizationId: connector.organizationId,
      details: { connector: connector.id, connector_type: connector.type, routed_by: 'connector', purpose: 'console' },
    });
    return url;
  }

  private async authorizeUrl(connector: SsoConnector, transaction: SsoTransaction, codeExpiresAt: number): Promise<string> {
    if (connector.type === 'saml') {
      transaction.samlRequestId = `_${randomToken(20)}`;
      const envelope = await this.state.begin(transaction, codeExpiresAt);
      return this.samlConnectors.authorizeUrl(connector, transaction.samlRequestId, envelope);
    }
    transaction.codeVerifier = randomToken(32);
    transaction.oidcNonce = randomToken(16);
    const envelope = await this.state.begin(transaction, codeExpiresAt);
    return this.oidcConnectors.authorizeUrl(connector, {
      state: envelope,
      codeVerifier: transaction.codeVerifier,
      nonce: transaction.oidcNonce,
    });
  }

  /** The SAML ACS: RelayState is the envelope, SAMLResponse the IdP's signed answer. */
  async completeSaml(
    origin: RequestContext,
    connectorId: string,
    body: { SAMLResponse?: string; RelayState?: string },
    headers: ResponseHeaders,
  ): Promise<SignInPurpose> {
    const connector = await this.returningTo(origin, connectorId, 'saml');
    return this.complete(origin, connector, body.RelayState, headers, (transaction) =>
      this.samlConnectors.verify(connector, body.SAMLResponse, transaction.samlRequestId),
    );
  }

  /** The OIDC redirect URI: `state` is the envelope; code, `iss` or an error come from the IdP. */
  async completeOidc(origin: RequestContext, connectorId: string, callbackUrl: URL, headers: ResponseHeaders): Promise<SignInPurpose> {
    const connector = await this.returningTo(origin, connectorId, 'oidc');
    const state = callbackUrl.searchParams.get('state') ?? undefined;
    return this.complete(origin, connector, state, headers, (transaction) => {
      if (!transaction.codeVerifier || !transaction.oidcNonce) {
        throw new SignInRejected('pkce_verifier_missing', 'This sign-in cannot be completed; start again from the device page');
      }
      const request: OidcSignInRequest = {
        connector,
        callbackUrl,
        checks: { state: state as string, codeVerifier: transaction.codeVerifier, nonce: transaction.oidcNonce },
      };
      return authenticateWith<VerifiedIdentity>(OIDC_STRATEGY, request).then((outcome) => {
        if ('user' in outcome) return outcome.user;
        throw new SignInRejected('response_invalid', 'The answer of your identity provider could not be verified; sign in again');
      });
    });
  }

  private async complete(
    origin: RequestContext,
    connector: SsoConnector,
    envelope: string | undefined,
    headers: ResponseHeaders,
    verify: (transaction: SsoTransaction) => Promise<VerifiedIdentity>,
  ): Promise<SignInPurpose> {
    let identity: VerifiedIdentity;
    let transaction: SsoTransaction | undefined;
    try {
      transaction = await this.state.finish(envelope, connector.id);
      identity = await verify(transaction);
    } catch (error) {
      if (error instanceof SignInRejected) {
        const pending = transaction?.userCode ? await this.deviceFlow.peekPending(transaction.userCode) : undefined;
        await this.signIn.reject(origin, connector.id, error.reason, pending, transaction?.purpose === 'console' ? { purpose: 'console' } : {});
      }
      throw error;
    }
    const person = { ...identity, organizationId: connector.organizationId };
    if (transaction.purpose === 'console') {
      await this.signIn.completeConsole(origin, connector.id, person, headers);
      return 'console';
    }
    const pending = await this.deviceFlow.findPendingOfVerifiedCode(origin, transaction.userCode ?? '', 'sign_in');
    await this.signIn.complete(origin, connector.id, person, pending, headers);
    return 'approval';
  }

  private resolve(request: InitiateRequest): SsoConnector {
    if (request.connector) return this.connector(request.connector);
    if (!request.email) throw new InvalidRequest('Name a connector or give your email address');
    const connector = this.directory.connectorForEmail(request.email);
    if (!isSso(connector)) {
      throw new NotFound('No single sign-on is set up for that email domain; check the address or ask your administrator');
    }
    return connector;
  }

  /**
   * The connector an IdP's answer came back to. An ACS or callback of no
   * connector stays a 404, but the probe is audited (sampled, as rate-limit
   * trips are) so an auditor sees someone trying connector names.
   */
  private async returningTo<T extends SsoConnector['type']>(origin: RequestContext, id: string, type: T): Promise<Extract<SsoConnector, { type: T }>> {
    try {
      return this.connector(id, type);
    } catch (error) {
      if (error instanceof NotFound) await this.recordProbe(origin, id, type);
      throw error;
    }
  }

  private async recordProbe(origin: RequestContext, id: string, type: SsoConnector['type']): Promise<void> {
    try {
      const { count } = await this.counters.increment(`sso-probe:${origin.ip || 'unknown'}`, PROBE_WINDOW_MS);
      if (count !== 1) return;
      await this.audit.record({
        origin,
        type: 'sso.assertion_rejected',
        outcome: 'failure',
        details: {
          connector: id.slice(0, 64),
          reason: 'unknown_connector',
          endpoint: type === 'saml' ? 'saml_acs' : 'oidc_callback',
          sampled_window_seconds: PROBE_WINDOW_MS / 1000,
        },
      });
    } catch (error) {
      // The answer is a 404 whatever happens here; a probe is not worth a 503.
      this.logger.warn({ msg: 'probe of an unknown connector not recorded', error: (error as Error).message });
    }
  }

  private connector<T extends SsoConnector['type']>(id: string, type?: T): Extract<SsoConnector, { type: T }> {
    const connector = this.directory.connector(id);
    if (!isSso(connector) || (type && connector.type !== type)) {
      throw new NotFound(`There is no ${type ? `${type.toUpperCase()} ` : 'single sign-on '}connector "${id.slice(0, 64)}"`);
    }
    return connector as Extract<SsoConnector, { type: T }>;
  }
}
