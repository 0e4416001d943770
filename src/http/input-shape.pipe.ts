import { type ArgumentMetadata, Injectable, type PipeTransform } from '@nestjs/common';
import { InvalidRequest } from '../common/oauth-errors';

/** Deeper than any request devicegate reads. */
export const MAX_INPUT_DEPTH = 32;

/**
 * Refuses a body nested deeper than MAX_INPUT_DEPTH before any validation
 * walks it (recursively, to a stack overflow).
 */
@Injectable()
export class InputShapePipe implements PipeTransform {
  transform(value: unknown, metadata: ArgumentMetadata): unknown {
    if (metadata.type === 'body' && depthExceeds(value, MAX_INPUT_DEPTH)) {
      throw new InvalidRequest(`The request body is nested deeper than ${MAX_INPUT_DEPTH} levels`);
    }
    return value;
  }
}

function depthExceeds(root: unknown, limit: number): boolean {
  const stack: [unknown, number][] = [[root, 1]];
  while (stack.length > 0) {
    const [value, depth] = stack.pop() as [unknown, number];
    if (value === null || typeof value !== 'object') continue;
    if (depth > limit) return true;
    for (const child of Object.values(value)) stack.push([child, depth + 1]);
  }
  return false;
}
