import { createClient, type Client } from 'ldapjs';
import { type LdapServer, startLdapServer } from './ldap-server';

function bind(client: Client, dn: string, password: string): Promise<void> {
  return new Promise((resolve, reject) => client.bind(dn, password, (error) => (error ? reject(error) : resolve())));
}

function withClient<T>(url: string, tlsOptions: object, use: (client: Client) => Promise<T>): Promise<T> {
  const client = createClient({ url, tlsOptions, connectTimeout: 2_000, timeout: 2_000 });
  client.on('error', () => undefined);
  return use(client).finally(() => client.unbind());
}

describe('test LDAP server (slapd)', () => {
  let server: LdapServer;

  beforeAll(async () => {
    server = await startLdapServer({
      people: [{ uid: 'carol', password: 'carol-password', mail: 'carol@acme.example', cn: 'Carol Acme' }],
      service: { name: 'devicegate', password: 'service-password' },
    });
  });

  afterAll(() => server?.stop());

  it('binds a person with the right password and refuses a wrong one', async () => {
    await withClient(server.url, {}, (client) => bind(client, `uid=carol,ou=people,${server.suffix}`, 'carol-password'));
    await expect(withClient(server.url, {}, (client) => bind(client, `uid=carol,ou=people,${server.suffix}`, 'wrong'))).rejects.toThrow(/Invalid Credentials/);
  });

  it('serves ldaps with a certificate that only its CA makes trusted', async () => {
    await withClient(server.ldapsUrl, { ca: [server.caCertificate] }, (client) => bind(client, server.serviceDn, 'service-password'));
    await expect(withClient(server.ldapsUrl, {}, (client) => bind(client, server.serviceDn, 'service-password'))).rejects.toThrow(/certificate/i);
  });
});
