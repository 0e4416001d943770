import { discover, discoveryUrls, InvalidIssuer, normalizeIssuer } from './discovery';
import { ProtocolError } from './errors';
import { HttpClient } from './http';
import { FakeAuthorizationServer, ISSUER } from './test-support/fake-authorization-server';

describe('discovery (RFC 8414)', () => {
  it('normalizes the issuer and refuses what it must not talk to', () => {
    expect(normalizeIssuer(' https://login.example.com/ ')).toBe('https://login.example.com');
    expect(normalizeIssuer('http://localhost:3000')).toBe('http://localhost:3000');
    expect(normalizeIssuer('http://127.0.0.1:3000/')).toBe('http://127.0.0.1:3000');
    expect(normalizeIssuer('http://[::1]:3000')).toBe('http://[::1]:3000');
    expect(() => normalizeIssuer('http://login.example.com')).toThrow('must use https');
    expect(normalizeIssuer('http://login.example.com', true)).toBe('http://login.example.com');
    expect(() => normalizeIssuer('https://login.example.com/?tenant=1')).toThrow(InvalidIssuer);
    expect(() => normalizeIssuer('ftp://login.example.com')).toThrow(InvalidIssuer);
    expect(() => normalizeIssuer('login.example.com')).toThrow('is not a URL');
  });

  it('puts the well-known segment between host and path, trying the appended form second', () => {
    expect(discoveryUrls('https://login.example.com')).toEqual(['https://login.example.com/.well-known/oauth-authorization-server']);
    expect(discoveryUrls('https://example.com/auth')).toEqual([
      'https://example.com/.well-known/oauth-authorization-server/auth',
      'https://example.com/auth/.well-known/oauth-authorization-server',
    ]);
  });

  it('reads the metadata of the issuer', async () => {
    const server = new FakeAuthorizationServer();
    const metadata = await discover(new HttpClient({ fetch: server.fetch }), `${ISSUER}/`);
    expect(metadata.token_endpoint).toBe(`${ISSUER}/oauth/token`);
  });

  it('refuses metadata of another issuer, without the endpoints it needs, or without the device grant', async () => {
    for (const change of [
      { issuer: 'https://evil.example.com' },
      { token_endpoint: undefined },
      { device_authorization_endpoint: 42 },
      { token_endpoint: 'http://login.example.com/oauth/token' },
      { grant_types_supported: ['authorization_code'] },
    ]) {
      const server = new FakeAuthorizationServer();
      Object.assign(server.metadata, change);
      await expect(discover(new HttpClient({ fetch: server.fetch }), ISSUER)).rejects.toThrow();
    }
    const server = new FakeAuthorizationServer();
    server.metadata.issuer = 'https://evil.example.com';
    await expect(discover(new HttpClient({ fetch: server.fetch }), ISSUER)).rejects.toBeInstanceOf(ProtocolError);
  });
});
