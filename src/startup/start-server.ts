import type { INestApplication } from '@nestjs/common';
import pino, { type DestinationStream, type Logger } from 'pino';
import type { AppConfig } from '../config/app-config';
import { ConfigError, loadConfig } from '../config/load-config';
import { createLogger } from '../common/logger';
import { prettyLogDestination } from '../common/pretty-log';
import { checkDependencies } from './dependency-preflight';
import { devModeBanner } from './dev-mode-banner';
import { signInProblems } from './sign-in-readiness';
import { StartupError } from './startup-error';

const SHUTDOWN_SIGNALS = ['SIGTERM', 'SIGINT'] as const;

/** Writes why the server cannot start, in one line, and exits with 1. */
function refuse(message: string): never {
  process.stderr.write(`devicegate cannot start: ${message}\n`);
  process.exit(1);
}

function describeStartFailure(error: unknown, config: AppConfig): string {
  const { code, message } = (error ?? {}) as { code?: string; message?: string };
  if (code === 'EADDRINUSE') return `${config.host}:${config.port} is already in use: stop the other process or set PORT.`;
  if (code === 'EACCES') return `${config.host}:${config.port} may not be bound by this user: set PORT above 1023.`;
  return `${message ?? String(error)}`.split('\n')[0];
}

/**
 * `node dist/src/main.js`: the configuration, then Postgres and Redis
 * (each failure one sentence), then the application. Dev mode logs for
 * people and ends with its banner; production logs JSON. SIGTERM and
 * SIGINT drain in-flight requests, close Postgres and Redis, and exit 0.
 */
export async function startServer(environment: NodeJS.ProcessEnv = process.env): Promise<INestApplication> {
  let config: AppConfig;
  try {
    config = loadConfig(environment);
    const unusable = config.env === 'production' ? signInProblems(config) : [];
    if (unusable.length > 0) throw new ConfigError(unusable);
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`${error.message}\n`);
      process.exit(1);
    }
    throw error;
  }
  try {
    await checkDependencies(config);
  } catch (error) {
    if (error instanceof StartupError) refuse(error.message);
    throw error;
  }

  // One destination for the application's lines and these, so they reach stdout in the order they happened.
  const logDestination = config.mode === 'embedded' ? prettyLogDestination() : pino.destination({ dest: 1, sync: false });
  const logger = createLogger(config.logLevel, logDestination);
  let app: INestApplication;
  try {
    // Loaded only now, so a refused configuration or dependency is reported before the whole application is loaded.
    const { createApp } = await import('../create-app');
    app = await createApp(config, { logDestination });
    await app.listen(config.port, config.host);
  } catch (error) {
    refuse(describeStartFailure(error, config));
  }
  stopOnSignals(app, logger, logDestination);
  logger.info(`listening on http://${config.host}:${config.port} (public URL ${config.publicUrl})`);
  if (config.mode === 'embedded') process.stdout.write(`${devModeBanner(config)}\n`);
  return app;
}

function stopOnSignals(app: INestApplication, logger: Logger, destination: DestinationStream): void {
  const exit = (status: number) => {
    if ('flushSync' in destination && typeof destination.flushSync === 'function') destination.flushSync();
    process.exit(status);
  };
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info(`${signal} received: draining in-flight requests, then closing Postgres and Redis`);
    app.close().then(
      () => {
        logger.info('stopped');
        exit(0);
      },
      (error: unknown) => {
        logger.error({ err: error }, 'stopping failed');
        exit(1);
      },
    );
  };
  for (const signal of SHUTDOWN_SIGNALS) process.on(signal, stop);
}
