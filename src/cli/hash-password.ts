// Prints the scrypt hash of a password for a local user of the config file (`password_hash`).
// The password comes on standard input, so it stays out of the shell history:
//   npm run --silent hash-password < password.txt
//   node dist/src/cli/hash-password.js < password.txt      (in the container image)
import { hashPasswordSync } from '../common/crypto';

let input = '';
process.stdin.setEncoding('utf8');
process.stdin.on('data', (chunk: string) => (input += chunk));
process.stdin.on('end', () => {
  const password = input.replace(/\r?\n$/, '');
  if (password.length < 8) {
    process.stderr.write('The password must be at least 8 characters.\n');
    process.exit(1);
  }
  process.stdout.write(`${hashPasswordSync(password)}\n`);
});
