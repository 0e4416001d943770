// A real OpenID Connect identity provider (oidc-provider v9) for specs, run
// as a child process (see oidc-idp.ts) so that jest never loads the ESM-only
// oidc-provider. Configuration comes as JSON in OIDC_IDP_CONFIG:
//   { clients: [{ client_id, client_secret, redirect_uris, ...metadata }],
//     accounts: { [login]: { sub, email, name, groups?, ...claims } },
//     idTokenSigningAlgValues?: [...]            (what the discovery document announces)
//     tls?: { key, cert } }                     PEM: serve https (the issuer is then https://127.0.0.1:<port>)
// It listens on 127.0.0.1 with an ephemeral port, prints exactly one line
// `OIDC_IDP_READY <issuer>` to stdout, and exits on SIGTERM / SIGINT.
//
// The login is drivable over plain HTTP, without a browser:
//   GET  /interaction/:uid        a tiny HTML login form (consent prompts are granted at once)
//   POST /interaction/:uid/login  urlencoded `login` (any password) signs the account in
//   POST /interaction/:uid/abort  returns access_denied to the client
// Accounts carry `email_verified: true` unless they say otherwise (null: the claim is left out).
//
// A spec can make the token endpoint answer the next code exchange with a
// forged id_token: POST /__test/forge-next-id-token with JSON
//   { mode, claims? }  (claims are merged into the genuine payload first)
// where mode is one of
//   other-key     re-signed with another RSA key under the IdP's own kid
//   unknown-kid   signed with another RSA key under a kid the JWKS does not hold
//   edited        the genuine signature over an edited payload
//   alg-none      an unsecured JWS (alg "none", empty signature)
//   hs256         HS256 keyed with the client's secret
// Set OIDC_IDP_DEBUG=1 to see oidc-provider's own notices on stderr.

import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import { createServer as createTlsServer } from 'node:https';

const debug = Boolean(process.env.OIDC_IDP_DEBUG);
silenceProviderNotices();
// Imported only after the console is patched: oidc-provider warns at import time on Node 20.
const { default: Provider } = await import('oidc-provider');
const { SignJWT, importJWK } = await import('jose');

const FORGE_PATH = '/__test/forge-next-id-token';
const FORGE_MODES = new Set(['other-key', 'unknown-kid', 'edited', 'alg-none', 'hs256']);
const INNER_HEADER = 'x-oidc-idp-inner';

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
function providerConfiguration(config, accountsBySub, signingKey) {
  return {
    clients: config.clients.map(clientMetadata),
    jwks: { keys: [signingKey] },
    cookies: { keys: [randomBytes(32).toString('hex')] },
    responseTypes: ['code'],
    pkce: { required: () => true },
    ...(config.idTokenSigningAlgValues ? { enabledJWA: { idTokenSigningAlgValues: config.idTokenSigningAlgValues } } : {}),
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
  const claims = Object.fromEntries(Object.entries({ email_verified: true, ...account, sub }).filter(([, value]) => value !== null));
  return { accountId: sub, claims: async () => claims };
}

const b64u = (value) => Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)).toString('base64url');

/** The genuine id_token turned into the forgery `mode` asks for. */
async function forgeIdToken(idToken, { mode, claims = {} }, signingKey, clients) {
  const [encodedHeader, encodedPayload, signature] = idToken.split('.');
  const header = JSON.parse(Buffer.from(encodedHeader, 'base64url').toString());
  const payload = { ...JSON.parse(Buffer.from(encodedPayload, 'base64url').toString()), ...claims };
  const resign = async (kid) => {
    const other = generateSigningKey();
    return new SignJWT(payload).setProtectedHeader({ alg: 'RS256', typ: header.typ, kid }).sign(await importJWK(other, 'RS256'));
  };
  switch (mode) {
    case 'other-key':
      return resign(signingKey.kid);
    case 'unknown-kid':
      return resign(`unknown-${randomBytes(4).toString('hex')}`);
    case 'edited':
      return `${encodedHeader}.${b64u(payload)}.${signature}`;
    case 'alg-none':
      return `${b64u({ alg: 'none', typ: header.typ })}.${b64u(payload)}.`;
    case 'hs256': {
      const client = clients.find((candidate) => candidate.client_id === payload.aud);
      if (!client) throw new Error(`no client ${payload.aud} to key an HS256 forgery with`);
      return new SignJWT(payload).setProtectedHeader({ alg: 'HS256', typ: header.typ }).sign(new TextEncoder().encode(client.client_secret));
    }
    default:
      throw new Error(`unknown forge mode ${mode}`);
  }
}

/** Reads a request body as a Buffer. */
async function readBody(req) {
  const chunks = [];
  for await (const chunk of req) chunks.push(chunk);
  return Buffer.concat(chunks);
}

/** Asks the provider itself for the token response, then answers with the id_token forged. */
async function forgedTokenResponse(req, res, issuer, forge, signingKey, clients) {
  const headers = { ...req.headers, [INNER_HEADER]: '1' };
  delete headers['content-length'];
  const inner = await fetch(`${issuer}${req.url}`, { method: req.method, headers, body: await readBody(req) });
  const body = await inner.json();
  if (inner.ok && typeof body.id_token === 'string') body.id_token = await forgeIdToken(body.id_token, forge, signingKey, clients);
  res.writeHead(inner.status, { 'Content-Type': 'application/json; charset=utf-8', 'Cache-Control': 'no-store' });
  res.end(JSON.stringify(body));
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

/** Our interaction and forging routes first, everything else goes to oidc-provider. */
function createHandler(provider, config, issuer, signingKey) {
  const { accounts, clients } = config;
  const callback = provider.callback();
  let forge;
  return async (req, res) => {
    const path = new URL(req.url ?? '/', 'http://idp').pathname;
    if (path === FORGE_PATH && req.method === 'POST') {
      const requested = JSON.parse((await readBody(req)).toString('utf8'));
      if (!FORGE_MODES.has(requested.mode)) return res.writeHead(400).end(`unknown forge mode ${requested.mode}`);
      forge = requested;
      return res.writeHead(204).end();
    }
    if (path === '/token' && forge && !req.headers[INNER_HEADER]) {
      const armed = forge;
      forge = undefined;
      return forgedTokenResponse(req, res, issuer, armed, signingKey, clients).catch((error) => {
        process.stderr.write(`forging failed: ${error?.stack ?? error}\n`);
        if (!res.headersSent) res.writeHead(500);
        res.end();
      });
    }
    const match = INTERACTION_PATH.exec(path);
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
  const signingKey = generateSigningKey();
  const provider = new Provider(issuer, providerConfiguration(config, accountsBySub, signingKey));
  provider.on('server_error', (_ctx, error) => process.stderr.write(`server_error: ${error?.stack ?? error}\n`));
  setHandler(createHandler(provider, config, issuer, signingKey));

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
