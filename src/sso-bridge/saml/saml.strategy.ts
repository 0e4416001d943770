import { Injectable } from '@nestjs/common';
import { PassportStrategy } from '@nestjs/passport';
import { MultiSamlStrategy, type MultiStrategyConfig, type Profile, type SamlConfig, type VerifyWithoutRequest } from '@node-saml/passport-saml';

export const SAML_STRATEGY = 'saml';

/** What the SAML strategy reads: the posted response and the connector's node-saml options. */
export interface SamlSignInRequest {
  body: { SAMLResponse: string };
  samlOptions: SamlConfig;
}

/**
 * MultiSamlStrategy with one constructor signature whose last parameter is
 * the sign-on verify callback, the shape @nestjs/passport's mixin fills in.
 * devicegate does no SAML single logout.
 */
class MultiSamlStrategyBase extends MultiSamlStrategy {
  constructor(options: MultiStrategyConfig, signonVerify: VerifyWithoutRequest) {
    super(options, signonVerify, (_profile, done) => done(new Error('SAML single logout is not offered')));
  }
}

/**
 * passport-saml's MultiSamlStrategy: one strategy for every SAML connector,
 * each request carrying its connector's options. It verifies signatures,
 * audience, times and InResponseTo; the checks node-saml leaves to the SP
 * follow in SamlConnectors.
 */
@Injectable()
export class SamlStrategy extends PassportStrategy(MultiSamlStrategyBase, SAML_STRATEGY) {
  constructor() {
    super({
      passReqToCallback: false,
      getSamlOptions: (request: object, done: (error: Error | null, options?: SamlConfig) => void) => done(null, (request as SamlSignInRequest).samlOptions),
    });
  }

  validate(profile: Profile | null): Profile | false {
    return profile ?? false;
  }
}
