import { describePostgresError, describeRedisError, endpointOf } from './startup-error';

const error = (code: string | undefined, message: string) => Object.assign(new Error(message), { code });

describe('startup error sentences', () => {
  it('never shows the credentials of a URL', () => {
    expect(endpointOf('postgres://devicegate:s3cret@db.internal:6432/devicegate', 5432)).toBe('db.internal:6432');
    const sentence = describePostgresError(error('28P01', 'password authentication failed'), 'postgres://devicegate:s3cret@db.internal/devicegate');
    expect(sentence).toBe('Postgres at db.internal:5432 refused the password of role "devicegate": fix the password in DATABASE_URL.');
  });

  it('tells a pg_hba refusal from a missing role', () => {
    expect(describePostgresError(error('28000', 'no pg_hba.conf entry for host "10.0.0.5", user "app", database "app", no encryption'), 'postgres://app@db/app')).toBe(
      'Postgres at db:5432 refused the connection (no pg_hba.conf entry for host "10.0.0.5", user "app", database "app", no encryption): allow this host and user in pg_hba.conf or fix DATABASE_URL.',
    );
  });

  it('names refused Redis credentials, an untrusted Redis certificate and a silent Redis', () => {
    expect(describeRedisError(error(undefined, 'WRONGPASS invalid username-password pair or user is disabled.'), 'redis://:x@cache:6380')).toBe(
      'Redis at cache:6380 refused the credentials (WRONGPASS invalid username-password pair or user is disabled.): fix the user and password in REDIS_URL.',
    );
    expect(describeRedisError(error('DEPTH_ZERO_SELF_SIGNED_CERT', 'self-signed certificate'), 'rediss://cache')).toBe(
      'The TLS certificate of Redis at cache:6379 is not trusted (self-signed certificate): give Node its CA (NODE_EXTRA_CA_CERTS=<file>), or fix the server\'s certificate.',
    );
    expect(describeRedisError(error('TIMEOUT', 'timed out'), 'redis://cache')).toBe(
      'Redis at cache:6379 did not answer within 5 s: check the host, the port and the firewall in REDIS_URL.',
    );
  });
});
