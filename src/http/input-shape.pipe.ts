import { type ArgumentMetadata, Injectable, type PipeTransform } from '@nestjs/common';
import { InvalidRequest } from '../common/oauth-errors';

/** Deeper than any request devicegate reads; a body nested deeper is refused before anything walks it. */
export const MAX_INPUT_DEPTH = 32;

/**
 * Refuses, before any validation, input no endpoint can mean: JSON nested
 * deeper than MAX_INPUT_DEPTH, and NUL characters in a body, the query or a
 * path parameter (Postgres cannot store them in text).
 */
@Injectable()
export class InputShapePipe implements PipeTransform {
  transform(value: unknown, metadata: ArgumentMetadata): unknown {
    if (metadata.type === 'body' || metadata.type === 'query' || metadata.type === 'param') check(value, metadata.type);
    return value;
  }
}

function check(root: unknown, where: 'body' | 'query' | 'param'): void {
  const stack: [unknown, number][] = [[root, 1]];
  while (stack.length > 0) {
    const [value, depth] = stack.pop() as [unknown, number];
    if (typeof value === 'string') {
      if (value.includes('\u0000')) throw new InvalidRequest(`The ${describe(where)} must not contain NUL characters`);
      continue;
    }
    if (value === null || typeof value !== 'object') continue;
    if (depth > MAX_INPUT_DEPTH) throw new InvalidRequest(`The ${describe(where)} is nested deeper than ${MAX_INPUT_DEPTH} levels`);
    for (const [key, child] of Object.entries(value)) {
      if (key.includes('\u0000')) throw new InvalidRequest(`The ${describe(where)} must not contain NUL characters`);
      stack.push([child, depth + 1]);
    }
  }
}

function describe(where: 'body' | 'query' | 'param'): string {
  return where === 'body' ? 'request body' : where === 'query' ? 'query string' : 'path';
}
