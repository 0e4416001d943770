import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { GUARDS_METADATA, METHOD_METADATA, PATH_METADATA, ROUTE_ARGS_METADATA } from '@nestjs/common/constants';
import { RequestMethod } from '@nestjs/common';
import { RouteParamtypes } from '@nestjs/common/enums/route-paramtypes.enum';
import { ModulesContainer } from '@nestjs/core';
import { DECORATORS } from '@nestjs/swagger';
import { BearerAuthGuard } from '../src/tokens/bearer-auth.guard';
import { RateLimitGuard } from '../src/rate-limit/rate-limit';
import { validateOpenApi } from './support/openapi';
import { DeviceGateHttp } from './support/http';
import { DEVICE_GRANT, startTestApp, type TestApp } from './support/test-app';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

interface Route {
  method: string;
  path: string;
  operation: string;
  takesBody: boolean;
  takesQuery: boolean;
  bearer: boolean;
  scopes: boolean;
  rateLimited: boolean;
}

const FORM = 'application/x-www-form-urlencoded';
const JSON_TYPE = 'application/json';
/** RFC 7009 §2.2: the revocation answer is an empty 200, whatever happened to the token. */
const EMPTY_SUCCESS = new Set(['POST /oauth/revoke']);
/** Answers a static document: nothing in it can fail. */
const NEVER_FAILS = new Set(['GET /.well-known/oauth-authorization-server']);

/** Every route the running app serves and documents, read from the controllers' own metadata. */
function routesOf(testApp: TestApp): Route[] {
  const routes: Route[] = [];
  for (const module of testApp.app.get(ModulesContainer).values()) {
    for (const wrapper of module.controllers.values()) {
      const controller = wrapper.metatype as (new (...args: never[]) => object) | null;
      if (!controller || Reflect.getMetadata(DECORATORS.API_EXCLUDE_CONTROLLER, controller)?.[0]) continue;
      const base = String(Reflect.getMetadata(PATH_METADATA, controller) ?? '');
      for (const name of Object.getOwnPropertyNames(controller.prototype)) {
        const handler = (controller.prototype as Record<string, unknown>)[name];
        if (name === 'constructor' || typeof handler !== 'function' || !Reflect.hasMetadata(PATH_METADATA, handler)) continue;
        if (Reflect.getMetadata(DECORATORS.API_EXCLUDE_ENDPOINT, handler)?.disable) continue;
        const args = Object.keys(Reflect.getMetadata(ROUTE_ARGS_METADATA, controller, name) ?? {}).map((key) => Number(key.split(':')[0]));
        const guards = [...(Reflect.getMetadata(GUARDS_METADATA, controller) ?? []), ...(Reflect.getMetadata(GUARDS_METADATA, handler) ?? [])];
        const path = `/${[base, String(Reflect.getMetadata(PATH_METADATA, handler))].filter((part) => part && part !== '/').join('/')}`
          .replace(/\/+/g, '/')
          .replace(/:(\w+)/g, '{$1}');
        const method = RequestMethod[Reflect.getMetadata(METHOD_METADATA, handler) as RequestMethod];
        routes.push({
          method,
          path,
          operation: `${method} ${path}`,
          takesBody: args.includes(RouteParamtypes.BODY),
          takesQuery: args.includes(RouteParamtypes.QUERY),
          bearer: guards.includes(BearerAuthGuard),
          scopes: guards.includes(BearerAuthGuard) && (Reflect.getMetadata('devicegate:required-scopes', handler) ?? Reflect.getMetadata('devicegate:required-scopes', controller) ?? []).length > 0,
          rateLimited: guards.includes(RateLimitGuard),
        });
      }
    }
  }
  return routes;
}

/** The schema at a $ref of the document, or the schema itself. */
function resolve(document: Json, schema: Json | undefined): Json | undefined {
  if (!schema?.$ref) return schema;
  return document.components.schemas[String(schema.$ref).replace('#/components/schemas/', '')];
}

/** OpenAPI 3.1: the schema of every body, parameter and response is documented; errors are RFC 6749 JSON. */
describe('OpenAPI document (/docs)', () => {
  let testApp: TestApp;
  let http: DeviceGateHttp;
  let document: Json;
  let routes: Route[];

  beforeAll(async () => {
    testApp = await startTestApp();
    http = new DeviceGateHttp(testApp.baseUrl);
    const reply = await http.request('/docs-json');
    expect(reply.status).toBe(200);
    document = reply.body;
    routes = routesOf(testApp);
  });

  afterAll(() => testApp.close());

  const operation = (route: { method: string; path: string }): Json | undefined => document.paths[route.path]?.[route.method.toLowerCase()];

  it('is a valid OpenAPI 3.1 document whose schemas are all JSON Schema 2020-12, without 3.0-only keywords', () => {
    expect(document.openapi).toBe('3.1.0');
    const result = validateOpenApi(document);
    expect(result.errors).toBeNull();
    expect(result).toMatchObject({ valid: true, version: '3.1' });
    expect(result.schemaProblems).toEqual([]);
  });

  it('names the package version and serves the JSON and the UI', async () => {
    const manifest = JSON.parse(readFileSync(join(__dirname, '..', 'package.json'), 'utf8')) as { version: string };
    expect(document.info).toMatchObject({ title: 'devicegate', version: manifest.version });
    const ui = await http.request<string>('/docs');
    expect(ui.status).toBe(200);
    expect(ui.headers.get('content-type')).toMatch(/^text\/html/);
  });

  it('documents every route the app serves, and no other', () => {
    expect(routes.length).toBeGreaterThan(20);
    const documented = Object.entries(document.paths as Json).flatMap(([path, item]) => Object.keys(item as Json).map((method) => `${method.toUpperCase()} ${path}`));
    expect(documented.sort()).toEqual(routes.map((route) => route.operation).sort());
  });

  it('gives every route that takes a body or a query the schema of its parameters', () => {
    const problems: string[] = [];
    for (const route of routes) {
      const op = operation(route) ?? {};
      if (route.takesBody) {
        const content = op.requestBody?.content ?? {};
        if (Object.keys(content).length === 0) problems.push(`${route.operation}: no request body`);
        for (const [type, media] of Object.entries(content)) {
          const schema = resolve(document, (media as Json).schema);
          if (!schema?.properties || Object.keys(schema.properties).length === 0) problems.push(`${route.operation}: ${type} body without properties`);
        }
      }
      if (route.takesQuery) {
        const query = (op.parameters ?? []).filter((parameter: Json) => parameter.in === 'query');
        if (query.length === 0) problems.push(`${route.operation}: no query parameters`);
        for (const parameter of query) {
          // A named enum is a reference to its schema.
          const schema = parameter.schema?.allOf?.length === 1 ? resolve(document, parameter.schema.allOf[0]) : parameter.schema;
          if (!schema?.type) problems.push(`${route.operation}: query ${parameter.name} without a schema`);
        }
      }
      for (const name of route.path.match(/\{(\w+)\}/g) ?? []) {
        const parameter = (op.parameters ?? []).find((candidate: Json) => candidate.in === 'path' && `{${candidate.name}}` === name);
        if (!parameter?.schema?.type) problems.push(`${route.operation}: path parameter ${name} without a schema`);
      }
    }
    expect(problems).toEqual([]);
  });

  it('gives every route its success response with a schema (a 303 with its Location, a 204 empty)', () => {
    const problems: string[] = [];
    for (const route of routes) {
      const responses: Json = operation(route)?.responses ?? {};
      const success = Object.keys(responses).filter((status) => /^[23]\d\d$/.test(status));
      if (success.length === 0) problems.push(`${route.operation}: no success response`);
      for (const status of success) {
        const response = responses[status];
        if (status === '204') {
          if (response.content) problems.push(`${route.operation}: 204 with content`);
        } else if (status.startsWith('3')) {
          if (!response.headers?.Location?.schema) problems.push(`${route.operation}: ${status} without a Location header`);
        } else if (EMPTY_SUCCESS.has(route.operation)) {
          if (response.content) problems.push(`${route.operation}: documented with a body it does not send`);
        } else {
          const media = Object.values(response.content ?? {}) as Json[];
          if (media.length === 0 || media.some((entry) => !entry.schema)) problems.push(`${route.operation}: ${status} without a response schema`);
        }
      }
    }
    expect(problems).toEqual([]);
  });

  it('documents the RFC 6749 errors each route answers, with their real status codes', () => {
    const problems: string[] = [];
    const errorSchema = document.components.schemas.OAuthErrorDto;
    expect(errorSchema).toMatchObject({ required: ['error', 'error_description'], properties: { error: { type: 'string' }, error_description: { type: 'string' } } });
    for (const route of routes) {
      const responses: Json = operation(route)?.responses ?? {};
      const errors = Object.keys(responses).filter((status) => /^[45]\d\d$/.test(status));
      const expected = [
        ...(route.takesBody || route.takesQuery || route.bearer ? ['400'] : []),
        ...(route.bearer ? ['401', '503'] : []),
        ...(route.scopes ? ['403'] : []),
        ...(route.rateLimited ? ['429', '503'] : []),
      ];
      for (const status of expected) if (!errors.includes(status)) problems.push(`${route.operation}: no ${status} response`);
      // An unreadable body or a parameter sent twice is invalid_request wherever a body or a query is read.
      const invalidRequest = responses['400']?.content?.[JSON_TYPE]?.schema?.properties?.error?.enum ?? [];
      if ((route.takesBody || route.takesQuery) && !invalidRequest.includes('invalid_request')) problems.push(`${route.operation}: no invalid_request`);
      if (errors.length === 0 && !NEVER_FAILS.has(route.operation)) problems.push(`${route.operation}: no error response`);
      for (const status of errors) {
        const schema = responses[status].content?.[JSON_TYPE]?.schema;
        if (schema?.allOf?.[0]?.$ref !== '#/components/schemas/OAuthErrorDto' || !schema.properties?.error?.enum?.length) {
          problems.push(`${route.operation}: ${status} is not an RFC 6749 error with its codes`);
        }
      }
    }
    expect(problems).toEqual([]);
  });

  it('answers the RFC endpoints in both encodings and lists their RFC error codes', () => {
    for (const path of ['/oauth/device/code', '/oauth/token', '/oauth/introspect', '/oauth/revoke']) {
      const body = document.paths[path].post.requestBody;
      expect(Object.keys(body.content).sort()).toEqual([JSON_TYPE, FORM]);
      expect(body.content[FORM].schema).toEqual(body.content[JSON_TYPE].schema);
      expect(document.paths[path].post.security).toEqual(expect.arrayContaining([{ client_secret_basic: [] }]));
    }
    const deviceCode = resolve(document, document.paths['/oauth/device/code'].post.requestBody.content[FORM].schema);
    expect(Object.keys(deviceCode?.properties ?? {})).toEqual(expect.arrayContaining(['client_id', 'scope', 'device_label']));
    const token = document.paths['/oauth/token'].post;
    expect(resolve(document, token.requestBody.content[FORM].schema)?.properties.grant_type.enum).toContain(DEVICE_GRANT);
    expect(token.responses['400'].content[JSON_TYPE].schema.properties.error.enum).toEqual(
      expect.arrayContaining(['authorization_pending', 'slow_down', 'access_denied', 'expired_token', 'invalid_grant', 'unsupported_grant_type']),
    );
    expect(token.responses['401'].content[JSON_TYPE].schema.properties.error.enum).toEqual(['invalid_client']);
    expect(document.paths['/oauth/introspect'].post.responses['403'].content[JSON_TYPE].schema.properties.error.enum).toEqual(['unauthorized_client']);
    expect(document.paths['/oauth/device/code'].post.responses['429'].headers['Retry-After']).toBeDefined();
  });

  it('documents the sign-in redirects as 303 See Other, never 200 or 201', () => {
    for (const [method, path] of [
      ['get', '/oauth/device/sso/initiate'],
      ['post', '/oauth/device/sso/saml/{connector}/acs'],
      ['get', '/oauth/device/sso/oidc/{connector}/callback'],
      ['post', '/oauth/device/sso/local/login'],
    ]) {
      const statuses = Object.keys(document.paths[path][method].responses);
      expect({ path, statuses }).toEqual({ path, statuses: expect.arrayContaining(['303']) });
      expect(statuses.filter((status) => status.startsWith('2'))).toEqual([]);
    }
  });

  it('documents both formats of the audit export: the format parameter, and NDJSON and CSV answers', () => {
    const exported = document.paths['/v1/audit/events/export'].get;
    const format = exported.parameters.find((parameter: Json) => parameter.name === 'format');
    expect(format).toMatchObject({ in: 'query', required: false });
    expect(resolve(document, format.schema.allOf[0])?.enum).toEqual(['ndjson', 'csv']);
    expect(exported.parameters.find((parameter: Json) => parameter.in === 'header' && parameter.name === 'accept')).toMatchObject({ required: false });
    expect(Object.keys(exported.responses['200'].content).sort()).toEqual(['application/x-ndjson', 'text/csv']);
    expect(resolve(document, exported.responses['200'].content['application/x-ndjson'].schema)?.properties.sequence).toBeDefined();
  });

  it('describes bearer tokens as opaque (no JWT format) and uses them on the /v1 routes', () => {
    const schemes = document.components.securitySchemes;
    expect(schemes.bearer).toEqual({ type: 'http', scheme: 'bearer', description: expect.stringMatching(/opaque/) });
    expect(schemes.client_secret_basic).toMatchObject({ type: 'http', scheme: 'basic' });
    expect(JSON.stringify(document)).not.toContain('bearerFormat');
    for (const route of routes.filter((candidate) => candidate.bearer)) {
      expect({ route: route.operation, security: operation(route)?.security }).toEqual({ route: route.operation, security: [{ bearer: [] }] });
    }
  });
});
