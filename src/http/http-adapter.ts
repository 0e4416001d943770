import type { AppConfig } from '../config/app-config';
import { expressEdge } from './express-adapter';
import { fastifyEdge } from './fastify-adapter';
import type { EdgeOptions, HttpEdge } from './http-edge';

/** The one place that knows which HTTP framework runs under Nest (HTTP_ADAPTER). */
export function createHttpEdge(adapter: AppConfig['httpAdapter'], options: EdgeOptions): HttpEdge {
  return adapter === 'fastify' ? fastifyEdge(options) : expressEdge(options);
}
