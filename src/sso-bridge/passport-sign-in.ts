import passport from 'passport';

/** What a strategy's `fail()` said: passport's challenge and status. */
export interface PassportFailure {
  message?: string;
  status?: number;
}

export type PassportOutcome<T> = { user: T } | { failure: PassportFailure };

/**
 * Runs one registered passport strategy on the parts of a request it reads,
 * without a session and without touching the response, so a connector's
 * controller checks the user code first and audits the outcome itself.
 * Adapter-neutral: the strategy sees the object given here (its `body`,
 * `query` and whatever settings it needs), never Express's or Fastify's
 * request.
 */
export function authenticateWith<T>(strategy: string, request: object): Promise<PassportOutcome<T>> {
  return new Promise((resolve, reject) => {
    const middleware = passport.authenticate(strategy, { session: false }, (error: unknown, user: T | false, info: unknown, status?: number) => {
      if (error) reject(error);
      else if (user) resolve({ user });
      else resolve({ failure: { ...(typeof info === 'object' && info ? (info as PassportFailure) : {}), status } });
    });
    middleware({ body: {}, query: {}, ...request }, {}, reject);
  });
}

/**
 * A strategy for connectors whose own library verifies the IdP's answer
 * (openid-client): its verify callback gets the request and resolves to
 * the person, or fails with the library's error. The ready-made strategies
 * of such libraries keep their state in a server session; ours travels in
 * the single-use state envelope instead.
 */
export class VerifiedAnswerStrategy extends passport.Strategy {
  constructor(private readonly verify: (request: object, done: (error: unknown, user?: unknown) => void) => void) {
    super();
  }

  override authenticate(request: object): void {
    this.verify(request, (error, user) => {
      if (error) this.error(error);
      else if (user) this.success(user);
      else this.fail();
    });
  }
}
