import passport from 'passport';
import { authenticateWith, VerifiedAnswerStrategy } from './passport-sign-in';

describe('authenticateWith', () => {
  const answers = new Map<string, (done: (error: unknown, user?: unknown) => void) => void>([
    ['succeeds', (done) => done(null, { id: 'carol' })],
    ['fails', (done) => done(null, false)],
    ['breaks', (done) => done(new Error('directory down'))],
  ]);
  beforeAll(() => {
    for (const [name, answer] of answers) passport.use(`test-${name}`, new VerifiedAnswerStrategy((_request, done) => answer(done)));
  });
  afterAll(() => {
    for (const name of answers.keys()) passport.unuse(`test-${name}`);
  });

  it('resolves with the user a strategy verified', async () => {
    await expect(authenticateWith('test-succeeds', {})).resolves.toEqual({ user: { id: 'carol' } });
  });

  it('resolves with a failure when the strategy fails, so the caller audits it', async () => {
    await expect(authenticateWith('test-fails', {})).resolves.toEqual({ failure: { status: undefined } });
  });

  it("rejects with the strategy's error", async () => {
    await expect(authenticateWith('test-breaks', {})).rejects.toThrow('directory down');
  });

  it('hands the strategy only the object it is given, with an empty body and query by default', async () => {
    let seen: unknown;
    passport.use('test-sees', new VerifiedAnswerStrategy((request, done) => {
      seen = request;
      done(null, { ok: true });
    }));
    await authenticateWith('test-sees', { settings: { url: 'ldaps://dc' } });
    passport.unuse('test-sees');
    expect(seen).toMatchObject({ body: {}, query: {}, settings: { url: 'ldaps://dc' } });
    expect(seen).not.toHaveProperty('headers');
  });
});
