import {
  AccessDenied,
  AuthorizationPending,
  ExpiredToken,
  InsufficientScope,
  InvalidClient,
  InvalidGrant,
  InvalidRequest,
  InvalidScope,
  InvalidToken,
  NotFound,
  OAuthError,
  oauthErrorFromResponse,
  retryAfterSeconds,
  ServerError,
  SlowDown,
  TemporarilyUnavailable,
  TooManyRequests,
  UnauthorizedClient,
  UnsupportedGrantType,
} from './errors';

describe('oauthErrorFromResponse', () => {
  it.each([
    ['invalid_request', InvalidRequest],
    ['invalid_client', InvalidClient],
    ['invalid_grant', InvalidGrant],
    ['unauthorized_client', UnauthorizedClient],
    ['unsupported_grant_type', UnsupportedGrantType],
    ['invalid_scope', InvalidScope],
    ['authorization_pending', AuthorizationPending],
    ['slow_down', SlowDown],
    ['access_denied', AccessDenied],
    ['expired_token', ExpiredToken],
    ['invalid_token', InvalidToken],
    ['insufficient_scope', InsufficientScope],
    ['server_error', ServerError],
    ['temporarily_unavailable', TemporarilyUnavailable],
    ['too_many_requests', TooManyRequests],
    ['not_found', NotFound],
  ])('maps %s to its class, keeping the description and status', (error, type) => {
    const mapped = oauthErrorFromResponse(400, { error, error_description: 'Said the server', error_uri: 'https://x/doc' });
    expect(mapped).toBeInstanceOf(type);
    expect(mapped).toMatchObject({ error, code: error, description: 'Said the server', status: 400, errorUri: 'https://x/doc' });
    expect(mapped.message).toBe(`Said the server (${error})`);
  });

  it('keeps an unknown code as a plain OAuthError', () => {
    const mapped = oauthErrorFromResponse(400, { error: 'login_required' });
    expect(mapped.constructor).toBe(OAuthError);
    expect(mapped.error).toBe('login_required');
  });

  it('chooses by status when the body is not RFC 6749 JSON', () => {
    expect(oauthErrorFromResponse(401, undefined)).toBeInstanceOf(InvalidToken);
    expect(oauthErrorFromResponse(403, 'Forbidden')).toBeInstanceOf(InsufficientScope);
    expect(oauthErrorFromResponse(404, undefined)).toBeInstanceOf(NotFound);
    expect(oauthErrorFromResponse(429, undefined)).toBeInstanceOf(TooManyRequests);
    expect(oauthErrorFromResponse(503, undefined)).toBeInstanceOf(TemporarilyUnavailable);
    expect(oauthErrorFromResponse(502, { error: 42 })).toMatchObject({ constructor: ServerError, description: 'HTTP 502' });
    expect(oauthErrorFromResponse(418, undefined)).toBeInstanceOf(InvalidRequest);
  });

  it("reads slow_down's interval and Retry-After", () => {
    const slow = oauthErrorFromResponse(400, { error: 'slow_down', interval: 10 }) as SlowDown;
    expect(slow.interval).toBe(10);
    expect((oauthErrorFromResponse(400, { error: 'slow_down', interval: -1 }) as SlowDown).interval).toBeUndefined();
    const headers = new Headers({ 'retry-after': '17' });
    expect(oauthErrorFromResponse(429, { error: 'too_many_requests' }, headers).retryAfter).toBe(17);
  });
});

describe('retryAfterSeconds', () => {
  it('reads delay-seconds and HTTP dates', () => {
    expect(retryAfterSeconds('5')).toBe(5);
    expect(retryAfterSeconds('Wed, 01 Jan 2030 00:00:30 GMT', Date.parse('2030-01-01T00:00:00Z'))).toBe(30);
    expect(retryAfterSeconds('soon')).toBeUndefined();
    expect(retryAfterSeconds(null)).toBeUndefined();
  });
});
