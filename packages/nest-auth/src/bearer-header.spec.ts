import { MAX_TOKEN_LENGTH, readBearerCredentials } from './bearer-header';

const TOKEN = 'dgat_3kT9qLmN2pR7sV4wX8yZ1aB5cD6eF0gH2iJ4kL6mN8oP_xYz12';

describe('readBearerCredentials (RFC 6750 §2.1)', () => {
  it('reads the token of "Bearer <b64token>", the scheme in any case', () => {
    for (const header of [`Bearer ${TOKEN}`, `bearer ${TOKEN}`, `BEARER ${TOKEN}`, `Bearer   ${TOKEN}`, ` Bearer ${TOKEN} `]) {
      expect(readBearerCredentials(header)).toEqual({ kind: 'bearer', token: TOKEN });
    }
  });

  it('accepts any b64token, not only devicegate tokens (a JWT, base64 with padding)', () => {
    for (const token of ['eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln', 'abc+/def==', 'a-b.c_d~e', 'x']) {
      expect(readBearerCredentials(`Bearer ${token}`)).toEqual({ kind: 'bearer', token });
    }
  });

  it('sees no credentials without a header, with an empty one, or with another scheme', () => {
    for (const header of [undefined, '', '   ', 'Basic YWxpY2U6cHc=', `Token ${TOKEN}`, `Bearerx ${TOKEN}`, TOKEN, []]) {
      expect(readBearerCredentials(header)).toEqual({ kind: 'none' });
    }
  });

  it('refuses a Bearer header that does not carry exactly one b64token', () => {
    for (const header of [
      'Bearer',
      'Bearer ',
      `Bearer ${TOKEN} extra`,
      `Bearer ${TOKEN},x`,
      `Bearer\t${TOKEN}`,
      'Bearer tok"en',
      'Bearer =abc',
      'Bearer ab=c',
      `Bearer ${'a'.repeat(MAX_TOKEN_LENGTH + 1)}`,
      [`Bearer ${TOKEN}`, `Bearer ${TOKEN}`],
    ]) {
      expect(readBearerCredentials(header)).toEqual({ kind: 'malformed' });
    }
  });

  it('reads a single header given as an array', () => {
    expect(readBearerCredentials([`Bearer ${TOKEN}`])).toEqual({ kind: 'bearer', token: TOKEN });
  });
});
