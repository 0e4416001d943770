import { signInAtIdp } from './oidc-idp';

/**
 * `node sign-in-at-idp-main.ts <authorization URL> <login>`: signInAtIdp in a
 * process of its own, so an IdP's test CA can be trusted through
 * NODE_EXTRA_CA_CERTS (read only when Node starts). Prints the URL the IdP
 * sends the browser back to.
 */
signInAtIdp(process.argv[2], process.argv[3]).then(
  (url) => process.stdout.write(`${url}\n`),
  (error: unknown) => {
    process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  },
);
