import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generate } from 'selfsigned';
import { freePort } from './test-app';

export const SLAPD_PATH = process.env.SLAPD_PATH ?? '/usr/sbin/slapd';
const SLAPADD_PATH = process.env.SLAPADD_PATH ?? '/usr/sbin/slapadd';

/** A person in the directory: `uid=<uid>,ou=people,<suffix>`. */
export interface LdapPerson {
  uid: string;
  password: string;
  mail: string;
  cn: string;
}

export interface LdapServerOptions {
  /** `dc=acme,dc=example` unless given. */
  suffix?: string;
  people: LdapPerson[];
  /** The service account devicegate binds as to search: `cn=<name>,ou=services,<suffix>`. */
  service: { name: string; password: string };
}

export interface LdapServer {
  /** `ldap://127.0.0.1:<port>` (StartTLS offered). */
  url: string;
  /** `ldaps://127.0.0.1:<port>`, with a certificate for 127.0.0.1 signed by `caCertificate`. */
  ldapsUrl: string;
  caCertificate: string;
  suffix: string;
  serviceDn: string;
  stop(): Promise<void>;
  /** Stops slapd and starts it again on the same ports with the same data (outage specs). */
  pause(): Promise<void>;
  resume(): Promise<void>;
}

/**
 * Starts a real OpenLDAP server (Debian's slapd) on loopback ports with a
 * generated configuration and directory, in a folder of its own.
 */
export async function startLdapServer(options: LdapServerOptions): Promise<LdapServer> {
  const suffix = options.suffix ?? 'dc=acme,dc=example';
  const folder = mkdtempSync(join(tmpdir(), 'devicegate-slapd-'));
  mkdirSync(join(folder, 'data'));
  const { ca, certificate, key } = await certificates();
  writeFileSync(join(folder, 'ca.pem'), ca);
  writeFileSync(join(folder, 'cert.pem'), certificate);
  writeFileSync(join(folder, 'key.pem'), key, { mode: 0o600 });
  const serviceDn = `cn=${options.service.name},ou=services,${suffix}`;
  writeFileSync(join(folder, 'slapd.conf'), slapdConf(folder, suffix));
  writeFileSync(join(folder, 'directory.ldif'), directoryLdif(suffix, options));
  execFileSync(SLAPADD_PATH, ['-q', '-f', join(folder, 'slapd.conf'), '-l', join(folder, 'directory.ldif')], { stdio: 'pipe' });

  const [port, ldapsPort] = [await freePort(), await freePort()];
  let child: ChildProcess | undefined;
  const start = async () => {
    child = spawn(SLAPD_PATH, ['-f', join(folder, 'slapd.conf'), '-h', `ldap://127.0.0.1:${port}/ ldaps://127.0.0.1:${ldapsPort}/`, '-d', '0'], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr?.on('data', (chunk: Buffer) => (stderr += String(chunk)));
    await waitForPort(port, 10_000, () => stderr);
  };
  const halt = async () => {
    const running = child;
    child = undefined;
    if (!running || running.exitCode !== null) return;
    await new Promise<void>((resolve) => {
      running.once('exit', () => resolve());
      running.kill('SIGTERM');
      setTimeout(() => running.kill('SIGKILL'), 3_000).unref();
    });
  };
  await start();
  return {
    url: `ldap://127.0.0.1:${port}`,
    ldapsUrl: `ldaps://127.0.0.1:${ldapsPort}`,
    caCertificate: ca,
    suffix,
    serviceDn,
    pause: halt,
    resume: start,
    stop: async () => {
      await halt();
      rmSync(folder, { recursive: true, force: true });
    },
  };
}

function slapdConf(folder: string, suffix: string): string {
  return [
    ...['core', 'cosine', 'inetorgperson', 'nis'].map((schema) => `include /etc/ldap/schema/${schema}.schema`),
    `pidfile ${join(folder, 'slapd.pid')}`,
    'modulepath /usr/lib/ldap',
    'moduleload back_mdb',
    `TLSCACertificateFile ${join(folder, 'ca.pem')}`,
    `TLSCertificateFile ${join(folder, 'cert.pem')}`,
    `TLSCertificateKeyFile ${join(folder, 'key.pem')}`,
    'database mdb',
    'maxsize 16777216',
    `suffix "${suffix}"`,
    `rootdn "cn=admin,${suffix}"`,
    `rootpw admin-${Math.random().toString(36).slice(2)}`,
    `directory ${join(folder, 'data')}`,
    'access to attrs=userPassword by anonymous auth by * none',
    'access to * by users read by * none',
    '',
  ].join('\n');
}

function directoryLdif(suffix: string, options: LdapServerOptions): string {
  const dc = /^dc=([^,]+)/.exec(suffix)?.[1] ?? 'example';
  const entries = [
    [`dn: ${suffix}`, 'objectClass: dcObject', 'objectClass: organization', `dc: ${dc}`, `o: ${dc}`],
    [`dn: ou=people,${suffix}`, 'objectClass: organizationalUnit', 'ou: people'],
    [`dn: ou=services,${suffix}`, 'objectClass: organizationalUnit', 'ou: services'],
    [
      `dn: cn=${options.service.name},ou=services,${suffix}`,
      'objectClass: person',
      `cn: ${options.service.name}`,
      `sn: ${options.service.name}`,
      `userPassword: ${options.service.password}`,
    ],
    ...options.people.map((person) => [
      `dn: uid=${person.uid},ou=people,${suffix}`,
      'objectClass: inetOrgPerson',
      `uid: ${person.uid}`,
      `cn: ${person.cn}`,
      `sn: ${person.cn.split(' ').pop()}`,
      `mail: ${person.mail}`,
      `userPassword: ${person.password}`,
    ]),
  ];
  return `${entries.map((lines) => lines.join('\n')).join('\n\n')}\n`;
}

/** A CA and a certificate for 127.0.0.1 signed by it, so specs can check that the CA setting is what makes TLS work. */
async function certificates(): Promise<{ ca: string; certificate: string; key: string }> {
  const ca = await generate([{ name: 'commonName', value: 'devicegate test LDAP CA' }], {
    keyType: 'rsa',
    keySize: 2048,
    algorithm: 'sha256',
    extensions: [{ name: 'basicConstraints', cA: true, critical: true }, { name: 'keyUsage', keyCertSign: true, cRLSign: true, critical: true }],
  });
  const leaf = await generate([{ name: 'commonName', value: '127.0.0.1' }], {
    keyType: 'rsa',
    keySize: 2048,
    algorithm: 'sha256',
    ca: { key: ca.private, cert: ca.cert },
    extensions: [{ name: 'subjectAltName', altNames: [{ type: 7, ip: '127.0.0.1' }] }],
  } as Parameters<typeof generate>[1]);
  return { ca: ca.cert, certificate: leaf.cert, key: leaf.private };
}

async function waitForPort(port: number, timeoutMs: number, stderr: () => string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const open = await new Promise<boolean>((resolve) => {
      const socket = connect(port, '127.0.0.1');
      socket.once('connect', () => {
        socket.destroy();
        resolve(true);
      });
      socket.once('error', () => resolve(false));
    });
    if (open) return;
    if (Date.now() > deadline) throw new Error(`slapd did not listen on ${port} within ${timeoutMs} ms\n${stderr()}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
