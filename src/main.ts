import 'reflect-metadata';
import { createApp } from './create-app';
import { AppConfig } from './config/app-config';
import { ConfigError, loadConfig } from './config/load-config';

function banner(config: AppConfig): string {
  const url = config.publicUrl;
  const demo = config.demo;
  return [
    '',
    '  devicegate is running in DEV MODE: embedded Postgres and in-process stores, for trying it out only.',
    `  Data folder: ${config.dataDir}`,
    '',
    '  Try a device login:',
    `    curl -s ${url}/oauth/device/code -d client_id=${demo?.clientId} -d device_label=my-laptop`,
    `    open the verification_uri_complete it prints, sign in as ${demo?.username} / ${demo?.password}, approve`,
    `    curl -s ${url}/oauth/token -d grant_type=urn:ietf:params:oauth:grant-type:device_code \\`,
    `         -d client_id=${demo?.clientId} -d device_code=<device_code>`,
    `    curl -s ${url}/v1/me -H "Authorization: Bearer <access_token>"`,
    `  Or with the CLI:  npm run --silent devicegate -- login --issuer ${url}`,
    '',
    `  API docs: ${url}/docs    Production: set DATABASE_URL, REDIS_URL, PUBLIC_URL and SECRET_KEYS (see README).`,
    '',
  ].join('\n');
}

async function main(): Promise<void> {
  let config: AppConfig;
  try {
    config = loadConfig();
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`${error.message}\n`);
      process.exit(1);
    }
    throw error;
  }
  const app = await createApp(config);
  await app.listen(config.port, config.host);
  if (config.mode === 'embedded') process.stdout.write(`${banner(config)}\n`);
}

void main();
