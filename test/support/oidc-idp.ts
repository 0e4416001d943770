import { type ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';

/** A client registered at the IdP (authorization code flow with PKCE; client_secret_basic or _post). */
export interface OidcIdpClient {
  client_id: string;
  client_secret: string;
  redirect_uris: string[];
}

/** An account at the IdP, keyed by its login; its claims go into the ID Token by scope. */
export interface OidcIdpAccount {
  sub: string;
  /** Scope `email`. */
  email: string;
  /** Scope `profile`. */
  name: string;
  /** Scope `email`; true unless given, null leaves the claim out (any other value is sent as is). */
  email_verified?: boolean | string | null;
  /** Scope `groups`. */
  groups?: string[];
}

/** How the next id_token of the token endpoint is forged (see oidc-idp.mjs). */
export type IdTokenForgery = 'other-key' | 'unknown-kid' | 'edited' | 'alg-none' | 'hs256';

export interface OidcIdpConfig {
  clients: OidcIdpClient[];
  accounts: Record<string, OidcIdpAccount>;
  /** `id_token_signing_alg_values_supported` of the discovery document; oidc-provider's default when left out. */
  idTokenSigningAlgValues?: string[];
  /** PEM key and certificate: the IdP serves https, as production requires of an issuer. */
  tls?: { key: string; cert: string };
}

export interface OidcIdp {
  /** `http://127.0.0.1:<port>`, without a trailing slash. */
  issuer: string;
  /** The next code exchange gets a forged id_token, with `claims` merged into the genuine payload. */
  forgeNextIdToken(mode: IdTokenForgery, claims?: Record<string, unknown>): Promise<void>;
  stop(): Promise<void>;
}

const SCRIPT = join(__dirname, 'oidc-idp.mjs');
const READY = /^OIDC_IDP_READY (\S+)$/m;
const MAX_HOPS = 10;

/**
 * Starts a real OpenID Connect provider (oidc-provider, see oidc-idp.mjs) in
 * a Node process of its own, so jest never loads the ESM-only library.
 */
export async function startOidcIdp(config: OidcIdpConfig, timeoutMs = 15_000): Promise<OidcIdp> {
  const child = spawn(process.execPath, [SCRIPT], {
    env: { ...process.env, NODE_ENV: 'test', OIDC_IDP_CONFIG: JSON.stringify(config) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const issuer = await waitForReady(child, timeoutMs);
  return {
    issuer,
    forgeNextIdToken: async (mode, claims) => {
      const response = await fetch(`${issuer}/__test/forge-next-id-token`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ mode, claims }),
      });
      if (response.status !== 204) throw new Error(`the IdP refused to forge: ${response.status} ${await response.text()}`);
    },
    stop: () => stop(child),
  };
}

/** Resolves with the issuer of the READY line; rejects with the process's stderr otherwise. */
function waitForReady(child: ChildProcess, timeoutMs: number): Promise<string> {
  let stdout = '';
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => (stderr += String(chunk)));
  return new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => fail(`the IdP did not start within ${timeoutMs} ms`), timeoutMs);
    function fail(reason: string) {
      clearTimeout(timer);
      child.kill('SIGKILL');
      reject(new Error(`${reason}\n${stderr}`));
    }
    const exited = (code: number | null) => fail(`the IdP exited with code ${code} before it was ready`);
    child.once('exit', exited);
    child.once('error', (error) => fail(`the IdP could not be spawned: ${error.message}`));
    child.stdout?.on('data', (chunk: Buffer) => {
      stdout += String(chunk);
      const ready = READY.exec(stdout);
      if (!ready) return;
      clearTimeout(timer);
      child.off('exit', exited);
      resolve(ready[1]);
    });
  });
}

/** SIGTERM, then SIGKILL if the process is still there after 5 s. */
async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  await new Promise<void>((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    child.kill('SIGTERM');
  });
}

/** Just enough of a browser's cookie store for one origin: name, value and path. */
class CookieJar {
  private readonly cookies = new Map<string, { value: string; path: string }>();

  /** Stores the Set-Cookie headers of a response to `url`; expired cookies are removed. */
  store(url: URL, response: Response): void {
    for (const header of response.headers.getSetCookie()) {
      const [pair, ...attributes] = header.split(';').map((part) => part.trim());
      const separator = pair.indexOf('=');
      const name = pair.slice(0, separator);
      const value = pair.slice(separator + 1);
      let path = url.pathname.replace(/\/[^/]*$/, '') || '/';
      let expired = false;
      for (const attribute of attributes) {
        const [key, ...rest] = attribute.split('=');
        const attributeValue = rest.join('=');
        if (/^path$/i.test(key)) path = attributeValue || '/';
        if (/^max-age$/i.test(key) && Number(attributeValue) <= 0) expired = true;
        if (/^expires$/i.test(key) && Date.parse(attributeValue) <= Date.now()) expired = true;
      }
      const id = `${name};${path}`;
      if (expired) this.cookies.delete(id);
      else this.cookies.set(id, { value, path });
    }
  }

  /** The Cookie header for a request to `url`, if any cookie's path matches. */
  header(url: URL): string | undefined {
    const matching = [...this.cookies.entries()]
      .filter(([, { path }]) => pathMatches(url.pathname, path))
      .map(([id, { value }]) => `${id.slice(0, id.indexOf(';'))}=${value}`);
    return matching.length ? matching.join('; ') : undefined;
  }
}

/** RFC 6265 §5.1.4 path-match. */
function pathMatches(requestPath: string, cookiePath: string): boolean {
  if (requestPath === cookiePath) return true;
  if (!requestPath.startsWith(cookiePath)) return false;
  return cookiePath.endsWith('/') || requestPath[cookiePath.length] === '/';
}

/** One request to the IdP, without following redirects, with the jar's cookies. */
async function idpRequest(jar: CookieJar, url: URL, init: RequestInit = {}): Promise<Response> {
  const headers = new Headers(init.headers);
  const cookie = jar.header(url);
  if (cookie) headers.set('cookie', cookie);
  const response = await fetch(url, { ...init, headers, redirect: 'manual' });
  jar.store(url, response);
  return response;
}

type Followed = { leftIdp: string } | { page: Response; url: URL };

/** Follows redirects within the IdP's origin until a page, or a Location outside it (the client's redirect_uri). */
async function followWithinIdp(jar: CookieJar, response: Response, url: URL): Promise<Followed> {
  for (let hop = 0; hop <= MAX_HOPS; hop++) {
    const location = response.headers.get('location');
    if (response.status < 300 || response.status >= 400 || !location) return { page: response, url };
    const next = new URL(location, url);
    if (next.origin !== url.origin) return { leftIdp: next.href };
    await response.body?.cancel();
    url = next;
    response = await idpRequest(jar, url);
  }
  throw new Error(`the IdP redirected more than ${MAX_HOPS} times`);
}

/** Describes an unexpected IdP answer, with its body. */
async function unexpected(what: string, followed: { page: Response; url: URL }): Promise<Error> {
  const body = await followed.page.text();
  return new Error(`${what}: ${followed.page.status} at ${followed.url.href}\n${body.slice(0, 2_000)}`);
}

/**
 * Signs in at the IdP the way a browser would, over plain HTTP: opens the
 * authorization URL, submits the login form as `login` (or cancels it with
 * `abort`), and follows the IdP's redirects until one points outside the
 * IdP. Returns that URL, the client's redirect_uri with code, state and iss
 * (or error), without requesting it.
 */
export async function signInAtIdp(authorizationUrl: string, login: string, options: { abort?: boolean } = {}): Promise<string> {
  const jar = new CookieJar();
  const start = new URL(authorizationUrl);
  const interaction = await followWithinIdp(jar, await idpRequest(jar, start), start);
  if ('leftIdp' in interaction) return interaction.leftIdp;
  if (interaction.page.status !== 200 || !/^\/interaction\/[^/]+$/.test(interaction.url.pathname)) {
    throw await unexpected('expected the IdP login page', interaction);
  }
  await interaction.page.body?.cancel();

  const action = new URL(`${interaction.url.pathname}/${options.abort ? 'abort' : 'login'}`, interaction.url);
  const submitted = await idpRequest(jar, action, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ login, password: 'any' }).toString(),
  });
  const done = await followWithinIdp(jar, submitted, action);
  if ('leftIdp' in done) return done.leftIdp;
  throw await unexpected(`the IdP did not redirect back to the client after signing in as ${login}`, done);
}

/** A connector of organization acme ("Acme SSO") for the config file, signing in at `idp` as `client` over plain http on loopback. */
export function acmeOidcConnector(id: string, idp: OidcIdp, client: { id: string; secret: string }) {
  return {
    id,
    type: 'oidc',
    organization: 'acme',
    display_name: 'Acme SSO',
    oidc: { issuer: idp.issuer, client_id: client.id, client_secret: client.secret, allow_insecure_http: true },
  };
}
