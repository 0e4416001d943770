import { type INestApplication, RequestMethod } from '@nestjs/common';
import { METHOD_METADATA, PATH_METADATA } from '@nestjs/common/constants';
import { ModulesContainer } from '@nestjs/core';

export interface RouteTemplate {
  method: string;
  /** As routed: `/v1/organizations/:org/subjects/:subject/authorizations`. */
  path: string;
}

/** Every route of the app's controllers, read from Nest's metadata (whichever adapter carries them), plus /docs. */
export function listRoutes(app: INestApplication): RouteTemplate[] {
  const routes: RouteTemplate[] = [
    { method: 'GET', path: '/docs' },
    { method: 'GET', path: '/docs-json' },
  ];
  for (const module of app.get(ModulesContainer).values()) {
    for (const { metatype } of module.controllers.values()) {
      if (!metatype) continue;
      const prefixes = ([] as string[]).concat(Reflect.getMetadata(PATH_METADATA, metatype) ?? '');
      const prototype = metatype.prototype as Record<string, unknown>;
      for (const name of Object.getOwnPropertyNames(prototype)) {
        const handler = prototype[name];
        if (name === 'constructor' || typeof handler !== 'function' || Reflect.getMetadata(PATH_METADATA, handler) === undefined) continue;
        const method = RequestMethod[Reflect.getMetadata(METHOD_METADATA, handler) as RequestMethod];
        for (const prefix of prefixes) {
          for (const path of ([] as string[]).concat(Reflect.getMetadata(PATH_METADATA, handler))) {
            routes.push({ method, path: `/${[prefix, path].map((part) => part.replace(/^\/+|\/+$/g, '')).filter(Boolean).join('/')}` });
          }
        }
      }
    }
  }
  return routes;
}
