import { APPROVAL_GRANT_COOKIE } from '../../src/sso-bridge/approval-grant.service';
import { DEVICE_GRANT } from './test-app';

/** Whom to sign in as: a test user, or any other local user (the dev-mode demo user). */
export interface Credentials {
  username: string;
  password: string;
}

export interface Reply<T = Record<string, any>> {
  status: number;
  headers: Headers;
  body: T;
}

async function read<T>(response: Response): Promise<Reply<T>> {
  const text = await response.text();
  let body: unknown = text;
  try {
    body = text ? JSON.parse(text) : undefined;
  } catch {
    // not JSON: keep the text
  }
  return { status: response.status, headers: response.headers, body: body as T };
}

/** Small HTTP helpers for one running devicegate. */
export class DeviceGateHttp {
  constructor(readonly baseUrl: string) {}

  async request<T = Record<string, any>>(path: string, init: RequestInit = {}): Promise<Reply<T>> {
    return read<T>(await fetch(`${this.baseUrl}${path}`, { redirect: 'manual', ...init }));
  }

  form<T = Record<string, any>>(path: string, params: Record<string, string | undefined>, headers: Record<string, string> = {}) {
    const body = new URLSearchParams();
    for (const [name, value] of Object.entries(params)) if (value !== undefined) body.append(name, value);
    return this.request<T>(path, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
      body: body.toString(),
    });
  }

  json<T = Record<string, any>>(path: string, payload: unknown, headers: Record<string, string> = {}, method = 'POST') {
    return this.request<T>(path, {
      method,
      headers: { 'content-type': 'application/json', ...headers },
      body: JSON.stringify(payload),
    });
  }

  deviceCode(clientId: string, params: Record<string, string | undefined> = {}, headers: Record<string, string> = {}) {
    return this.form('/oauth/device/code', { client_id: clientId, ...params }, headers);
  }

  poll(clientId: string | undefined, deviceCode: string, params: Record<string, string | undefined> = {}, headers: Record<string, string> = {}) {
    return this.form('/oauth/token', { grant_type: DEVICE_GRANT, client_id: clientId, device_code: deviceCode, ...params }, headers);
  }

  /** Signs in through the local connector; returns the approval-grant cookie (name=value). */
  async signIn(userCode: string, user: Credentials): Promise<string> {
    const reply = await this.form('/oauth/device/sso/local/login', {
      user_code: userCode,
      username: user.username,
      password: user.password,
    });
    if (reply.status !== 303) throw new Error(`sign-in failed: ${reply.status} ${JSON.stringify(reply.body)}`);
    return approvalGrantCookie(reply);
  }

  approvalContext(cookie: string) {
    return this.request('/oauth/device/approval-context', { headers: { cookie } });
  }

  decide(decision: 'approve' | 'deny', cookie: string, csrfToken: string | undefined, userCode: string) {
    return this.json(
      `/oauth/device/${decision}`,
      { user_code: userCode },
      { cookie, ...(csrfToken === undefined ? {} : { 'x-csrf-token': csrfToken }) },
    );
  }

  /** Sign in, read the context, and approve (or deny): what a person does on the page. */
  async approveAs(userCode: string, user: Credentials, decision: 'approve' | 'deny' = 'approve') {
    const cookie = await this.signIn(userCode, user);
    const context = await this.approvalContext(cookie);
    if (context.status !== 200) throw new Error(`approval-context failed: ${JSON.stringify(context.body)}`);
    const reply = await this.decide(decision, cookie, context.body.csrf_token, userCode);
    if (reply.status !== 200) throw new Error(`${decision} failed: ${JSON.stringify(reply.body)}`);
    return reply;
  }

  me(accessToken: string) {
    return this.request('/v1/me', { headers: { authorization: `Bearer ${accessToken}` } });
  }

  /** The value of one sample on /metrics, e.g. metric('devicegate_token_polls_total', { outcome: 'slow_down' }); 0 when absent. */
  async metric(name: string, labels: Record<string, string> = {}): Promise<number> {
    const reply = await this.request<string>('/metrics');
    const wanted = Object.entries(labels).map(([label, value]) => `${label}="${value}"`);
    for (const line of reply.body.split('\n')) {
      const match = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
      if (!match || match[1] !== name) continue;
      const present = (match[2] ?? '').split(',');
      if (wanted.every((pair) => present.includes(pair))) return Number(match[3]);
    }
    return 0;
  }
}

export interface SetCookie {
  name: string;
  value: string;
  /** Attribute names in lower case; flags map to true. */
  attributes: Record<string, string | true>;
}

export function parseSetCookie(header: string): SetCookie {
  const [pair, ...attributes] = header.split(';').map((part) => part.trim());
  const separator = pair.indexOf('=');
  return {
    name: pair.slice(0, separator),
    value: pair.slice(separator + 1),
    attributes: Object.fromEntries(
      attributes.map((attribute) => {
        const at = attribute.indexOf('=');
        return at < 0 ? [attribute.toLowerCase(), true] : [attribute.slice(0, at).toLowerCase(), attribute.slice(at + 1)];
      }),
    ),
  };
}

/** The approval-grant cookie a sign-in set, as name=value, picked by name among whatever else the reply set. */
export function approvalGrantCookie(reply: Reply<unknown>): string {
  const cookie = reply.headers
    .getSetCookie()
    .map(parseSetCookie)
    .find(({ name }) => name === APPROVAL_GRANT_COOKIE);
  if (!cookie) throw new Error(`no approval-grant cookie among ${JSON.stringify(reply.headers.getSetCookie())}`);
  return `${cookie.name}=${cookie.value}`;
}
