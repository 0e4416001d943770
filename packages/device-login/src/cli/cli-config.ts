import { promises as fs } from 'node:fs';
import { join } from 'node:path';
import { ensurePrivateDirectory, writePrivateFile } from '../store/private-files';

/** Which issuer and client each profile logged in to last, so later commands need no --issuer. No secrets. */
export interface CliConfig {
  version: 1;
  profiles: Record<string, { issuer: string; client_id: string }>;
}

export function cliConfigPath(directory: string): string {
  return join(directory, 'config.json');
}

export async function readCliConfig(directory: string): Promise<CliConfig> {
  try {
    const value = JSON.parse(await fs.readFile(cliConfigPath(directory), 'utf8')) as Partial<CliConfig>;
    if (value && typeof value.profiles === 'object' && value.profiles !== null) return { version: 1, profiles: value.profiles };
  } catch {
    // missing or unreadable: as if empty
  }
  return { version: 1, profiles: {} };
}

export async function writeCliConfig(directory: string, config: CliConfig): Promise<void> {
  await ensurePrivateDirectory(directory);
  await writePrivateFile(cliConfigPath(directory), `${JSON.stringify(config, null, 2)}\n`);
}
