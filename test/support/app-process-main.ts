import 'reflect-metadata';
import { DataSource } from 'typeorm';
import { loadConfig } from '../../src/config/load-config';
import { createApp } from '../../src/create-app';
import { DeviceFlowStore } from '../../src/device-flow/device-flow.store';
import { REDIS } from '../../src/redis/redis.token';

/** What the process tells its parent once it listens. */
export interface AppProcessReady {
  mode: string;
  baseUrl: string;
  databaseVersion: string;
  migrations: string[];
  redis: 'none' | 'connected';
  deviceFlowStore: string;
}

/** The child side of startAppProcess(): createApp(loadConfig(env)), listen, report, and close on 'stop'. */
async function main(): Promise<void> {
  const config = loadConfig(process.env);
  const app = await createApp(config);
  await app.listen(config.port, '127.0.0.1');
  const dataSource = app.get(DataSource);
  const [{ version }] = await dataSource.query('SELECT version() AS version');
  const migrations: { name: string }[] = await dataSource.query('SELECT name FROM schema_migrations ORDER BY id');
  const ready: AppProcessReady = {
    mode: config.mode,
    baseUrl: `http://127.0.0.1:${config.port}`,
    databaseVersion: version,
    migrations: migrations.map((migration) => migration.name),
    redis: app.get(REDIS, { strict: false }) === null ? 'none' : 'connected',
    deviceFlowStore: app.get(DeviceFlowStore, { strict: false }).constructor.name,
  };
  process.on('disconnect', () => void app.close().then(() => process.exit(1)));
  process.on('message', (message) => {
    if (message === 'stop') void app.close().then(() => process.exit(0));
  });
  process.send?.({ ready });
}

main().catch((error: unknown) => {
  process.send?.({ failed: error instanceof Error ? `${error.name}: ${error.message}` : String(error) });
  process.exit(1);
});
