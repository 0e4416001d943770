import type { ValidationError } from 'class-validator';
import { registerDecorator, type ValidationOptions } from 'class-validator';
import { parseDuration, parseRateLimit } from './durations';

/** Flattens class-validator's error tree into `path: message` lines. */
export function describeValidationErrors(errors: ValidationError[], parentPath = ''): string[] {
  return errors.flatMap((error) => {
    const path = parentPath
      ? /^\d+$/.test(error.property)
        ? `${parentPath}[${error.property}]`
        : `${parentPath}.${error.property}`
      : error.property;
    const own = Object.values(error.constraints ?? {}).map((message) => `${path}: ${message}`);
    return [...own, ...describeValidationErrors(error.children ?? [], path)];
  });
}

function textRule(name: string, message: string, accepts: (value: string) => boolean) {
  return (options?: ValidationOptions): PropertyDecorator =>
    (target, propertyName) =>
      registerDecorator({
        name,
        target: target.constructor,
        propertyName: propertyName as string,
        options: { message: `$property ${message} (got "$value")`, ...options },
        validator: { validate: (value: unknown) => value === undefined || (typeof value === 'string' && accepts(value)) },
      });
}

export const IsDuration = textRule('isDuration', 'must be a duration such as 90, 90s, 15m, 12h or 30d', (value) =>
  parseDuration(value) !== undefined,
);

export const IsRateLimit = textRule('isRateLimit', 'must be a rate such as 20/1m (requests per window)', (value) =>
  parseRateLimit(value) !== undefined,
);

export const IsBooleanText = textRule('isBooleanText', 'must be true or false', (value) =>
  ['true', 'false', '1', '0', ''].includes(value.toLowerCase()),
);
