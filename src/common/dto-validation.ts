import { plainToInstance } from 'class-transformer';
import { validateSync } from 'class-validator';

/** The value as an instance of `dto` when it passes the DTO's class-validator rules; undefined otherwise. */
export function parseDto<T extends object>(dto: new () => T, value: unknown): T | undefined {
  if (!value || typeof value !== 'object' || Array.isArray(value)) return undefined;
  const instance = plainToInstance(dto, value);
  return validateSync(instance).length === 0 ? instance : undefined;
}
