// A real OpenID Connect identity provider (oidc-provider v9) for specs, run
// as a child process (see oidc-idp.ts) so that jest never loads the ESM-only
// oidc-provider. Configuration comes as JSON in OIDC_IDP_CONFIG:
//   { clients: [{ client_id, client_secret, redirect_uris, ...metadata }],
//     accounts: { [login]: { sub, email, name, groups?, ...claims } },
//     tls?: { key, cert } }                     PEM: serve https (the issuer is then https://127.0.0.1:<port>)
// It listens on 127.0.0.1 with an ephemeral port, prints exactly one line
// `OIDC_IDP_READY <issuer>` to stdout, and exits on SIGTERM / SIGINT.
//
// The login is drivable over plain HTTP, without a browser:
//   GET  /interaction/:uid        a tiny HTML login form (consent prompts are granted at once)
//   POST /interaction/:uid/login  urlencoded `login` (any password) signs the account in
//   POST /interaction/:uid/abort  returns access_denied to the client
// Set OIDC_IDP_DEBUG=1 to see oidc-provider's own notices on stderr.

import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import { createServer as createTlsServer } from 'node:https';

const debug = Boolean(process.env.OIDC_IDP_DEBUG);
silenceProviderNotices();
// Imported only after the console is patched: oidc-provider warns at import time on Node 20.
const { default: Provider } = await import('oidc-provider');

const INTERACTION_PATH = /^\/interaction\/([\w-]+)(?:\/(login|abort))?\/?$/;
const ABORTED = { error: 'access_denied', error_description: 'End-User aborted interaction' };

/** oidc-provider's quick-start notices go through console.info/warn; keep stdout for the READY line only. */
function silenceProviderNotices() {
  for (const level of ['info', 'warn']) {
    const original = console[level].bind(console);
    console[level] = (first, ...rest) => {
      if (typeof first === 'string' && first.startsWith('oidc-provider ')) {
        if (debug) process.stderr.write(`${first}\n`);
        return;
      }
      original(first, ...rest);
    };
  }
}

/** Reads and checks OIDC_IDP_CONFIG. */
function readConfig() {
  const raw = process.env.OIDC_IDP_CONFIG;
  if (!raw) throw new Error('OIDC_IDP_CONFIG is not set');
  const config = JSON.parse(raw);
  if (!Array.isArray(config.clients) || typeof config.accounts !== 'object' || config.accounts === null) {
    throw new Error('OIDC_IDP_CONFIG must be { clients: [...], accounts: { [login]: {...} } }');
  }
  return config;
}

/** A fresh RS256 signing key, as a private JWK. */
function generateSigningKey() {
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  return { ...privateKey.export({ format: 'jwk' }), kid: randomBytes(8).toString('hex'), alg: 'RS256', use: 'sig' };
}

/** oidc-provider client metadata: authorization code flow, secret via client_secret_basic or _post. */
function clientMetadata(client) {
  return {
    grant_types: ['authorization_code'],
    response_types: ['code'],
    token_endpoint_auth_method: 'client_secret_basic',
    ...client,
  };
}

/** The provider's configuration (in-memory adapter, i.e. oidc-provider's default). */
function providerConfiguration(config, accountsBySub) {
  return {
    clients: config.clients.map(clientMetadata),
    jwks: { keys: [generateSigningKey()] },
    cookies: { keys: [randomBytes(32).toString('hex')] },
    responseTypes: ['code'],
    pkce: { required: () => true },
    claims: {
      openid: ['sub'],
      email: ['email', 'email_verified'],
      profile: ['name', 'preferred_username'],
      groups: ['groups'],
    },
    // Put the scopes' claims in the ID Token of the code flow too, not only at the userinfo endpoint.
    conformIdTokenClaims: false,
    features: { devInteractions: { enabled: false } },
    interactions: { url: (_ctx, interaction) => `/interaction/${interaction.uid}` },
    findAccount: (_ctx, sub) => findAccount(accountsBySub, sub),
    // RFC 9207: oidc-provider v9 always adds `iss` to authorization responses (no feature flag).
  };
}

/** The account with this subject, as oidc-provider wants it. */
function findAccount(accountsBySub, sub) {
  const account = accountsBySub.get(sub);
  if (!account) return undefined;
  return { accountId: sub, claims: async () => ({ ...account, sub }) };
}

/** Reads a urlencoded request body. */
async function readForm(req) {
  const chunks = [];
  for await (const chunk of req) chunks.push(chunk);
  return new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
}

/** Escapes text for HTML. */
function escapeHtml(text) {
  return String(text).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** Writes the login form of an interaction. */
function renderLogin(res, uid, status = 200, error = undefined) {
  const message = error ? `<p class="error">${escapeHtml(error)}</p>` : '';
  res.writeHead(status, { 'Content-Type': 'text/html; charset=utf-8', 'Cache-Control': 'no-store' });
  res.end(`<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>Sign in</title></head>
<body>
  <h1>Sign in</h1>${message}
  <form method="post" action="/interaction/${uid}/login">
    <input name="login" placeholder="login" autofocus>
    <input name="password" type="password" placeholder="password">
    <button type="submit">Sign in</button>
  </form>
  <form method="post" action="/interaction/${uid}/abort"><button type="submit">Cancel</button></form>
</body></html>`);
}

/** Grants everything the consent prompt found missing, and finishes the interaction with it. */
async function grantConsent(provider, req, res, interaction) {
  const { prompt: { details }, params, session, grantId } = interaction;
  const grant = grantId
    ? await provider.Grant.find(grantId)
    : new provider.Grant({ accountId: session.accountId, clientId: params.client_id });
  if (details.missingOIDCScope) grant.addOIDCScope(details.missingOIDCScope.join(' '));
  if (details.missingOIDCClaims) grant.addOIDCClaims(details.missingOIDCClaims);
  for (const [indicator, scopes] of Object.entries(details.missingResourceScopes ?? {})) {
    grant.addResourceScope(indicator, scopes.join(' '));
  }
  const savedGrantId = await grant.save();
  await provider.interactionFinished(req, res, { consent: { grantId: savedGrantId } }, { mergeWithLastSubmission: true });
}

/** Signs the submitted login in, or re-renders the form with a 400. */
async function submitLogin(provider, req, res, uid, accounts) {
  const form = await readForm(req);
  const login = form.get('login') ?? '';
  const account = Object.hasOwn(accounts, login) ? accounts[login] : undefined;
  if (!account) return renderLogin(res, uid, 400, `Unknown login: ${login}`);
  await provider.interactionFinished(req, res, { login: { accountId: account.sub } }, { mergeWithLastSubmission: false });
}

/** Handles /interaction/:uid[/login|/abort]. */
async function handleInteraction(provider, req, res, uid, action, accounts) {
  const interaction = await provider.interactionDetails(req, res);
  if (interaction.uid !== uid) throw new Error('interaction cookie does not match the URL');
  if (req.method === 'GET' && !action) {
    if (interaction.prompt.name === 'consent') return grantConsent(provider, req, res, interaction);
    return renderLogin(res, uid);
  }
  if (req.method === 'POST' && action === 'login') return submitLogin(provider, req, res, uid, accounts);
  if (req.method === 'POST' && action === 'abort') {
    return provider.interactionFinished(req, res, ABORTED, { mergeWithLastSubmission: false });
  }
  res.writeHead(405, { 'Content-Type': 'text/plain' }).end('method not allowed');
}

/** Our interaction routes first, everything else goes to oidc-provider. */
function createHandler(provider, accounts) {
  const callback = provider.callback();
  return async (req, res) => {
    const match = INTERACTION_PATH.exec(new URL(req.url ?? '/', 'http://idp').pathname);
    if (!match) return callback(req, res);
    try {
      await handleInteraction(provider, req, res, match[1], match[2], accounts);
    } catch (error) {
      if (debug) process.stderr.write(`interaction failed: ${error?.stack ?? error}\n`);
      if (!res.headersSent) res.writeHead(400, { 'Content-Type': 'text/plain' });
      res.end(`interaction failed: ${error?.message ?? error}`);
    }
  };
}

/** Listens on 127.0.0.1 with an ephemeral port, over https with `tls`; the handler is set once the issuer is known. */
async function listen(tls) {
  let handler = (_req, res) => res.writeHead(503).end();
  const handle = (req, res) => handler(req, res);
  const server = tls ? createTlsServer({ key: tls.key, cert: tls.cert }, handle) : createServer(handle);
  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const { port } = server.address();
  return { server, issuer: `${tls ? 'https' : 'http'}://127.0.0.1:${port}`, setHandler: (next) => (handler = next) };
}

async function main() {
  const config = readConfig();
  const accountsBySub = new Map(Object.values(config.accounts).map((account) => [account.sub, account]));
  const { server, issuer, setHandler } = await listen(config.tls);
  const provider = new Provider(issuer, providerConfiguration(config, accountsBySub));
  provider.on('server_error', (_ctx, error) => process.stderr.write(`server_error: ${error?.stack ?? error}\n`));
  setHandler(createHandler(provider, config.accounts));

  const stop = () => {
    server.close(() => process.exit(0));
    server.closeAllConnections();
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
  process.stdout.write(`OIDC_IDP_READY ${issuer}\n`);
}

main().catch((error) => {
  process.stderr.write(`oidc-idp failed to start: ${error?.stack ?? error}\n`);
  process.exit(1);
});
