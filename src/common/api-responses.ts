import { PATH_METADATA } from '@nestjs/common/constants';
import { applyDecorators } from '@nestjs/common';
import { ApiResponse, ApiSecurity, DECORATORS, getSchemaPath, type HeaderObject } from '@nestjs/swagger';
import { OAuthErrorDto } from './dto/oauth-error.dto';
import type { OAuthError } from './oauth-errors';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type OAuthErrorClass = new (...args: any[]) => OAuthError;

const ERRORS = 'devicegate:api-errors';

const HEADERS: Record<string, HeaderObject> = {
  'WWW-Authenticate': { description: 'The authentication scheme to use (RFC 6750 §3 for bearer tokens, RFC 6749 §5.2 for Basic)', schema: { type: 'string' } },
  'Retry-After': { description: 'Seconds to wait before trying again', schema: { type: 'integer' } },
};

interface DocumentedError {
  code: string;
  headers: string[];
}

/**
 * Documents the RFC 6749 errors a route answers, from the error classes
 * themselves: each class's status, code and headers. Stacks: a guard's
 * errors and the route's own ones are merged per status. On a controller
 * it applies to each of its routes.
 */
export function ApiErrors(...classes: OAuthErrorClass[]): MethodDecorator & ClassDecorator {
  const errors = classes.map((type) => {
    const sample = sampleOf(type);
    return { status: sample.status as number, code: sample.code, headers: Object.keys(sample.headers) };
  });
  return ((target: object, _key?: string | symbol, descriptor?: PropertyDescriptor) => {
    if (descriptor) {
      document(descriptor.value as object, errors);
      return descriptor;
    }
    const prototype = (target as { prototype: Record<string, unknown> }).prototype;
    for (const name of Object.getOwnPropertyNames(prototype)) {
      const handler = prototype[name];
      if (name !== 'constructor' && typeof handler === 'function' && Reflect.hasMetadata(PATH_METADATA, handler)) document(handler, errors);
    }
    return target;
  }) as MethodDecorator & ClassDecorator;
}

/** An instance to read code, status and header names from; the arguments only satisfy the constructor (a list of scopes, or a text). */
function sampleOf(type: OAuthErrorClass) {
  for (const args of [[[], 1], ['', 1]]) {
    try {
      return new type(...args);
    } catch {
      // The next shape of arguments.
    }
  }
  throw new Error(`ApiErrors cannot document ${type.name}`);
}

function document(handler: object, errors: { status: number; code: string; headers: string[] }[]): void {
  const known: Record<string, DocumentedError[]> = { ...(Reflect.getMetadata(ERRORS, handler) as Record<string, DocumentedError[]> | undefined) };
  for (const { status, code, headers } of errors) {
    const list = [...(known[status] ?? [])];
    const same = list.find((entry) => entry.code === code);
    if (same) same.headers = [...new Set([...same.headers, ...headers])];
    else list.push({ code, headers });
    known[status] = list;
  }
  Reflect.defineMetadata(ERRORS, known, handler);
  const responses = { ...(Reflect.getMetadata(DECORATORS.API_RESPONSE, handler) as Record<string, unknown> | undefined) };
  for (const [status, list] of Object.entries(known)) responses[status] = errorResponse(list);
  Reflect.defineMetadata(DECORATORS.API_RESPONSE, responses, handler);
  const models = (Reflect.getMetadata(DECORATORS.API_EXTRA_MODELS, handler) as unknown[] | undefined) ?? [];
  if (!models.includes(OAuthErrorDto)) Reflect.defineMetadata(DECORATORS.API_EXTRA_MODELS, [...models, OAuthErrorDto], handler);
}

function errorResponse(list: DocumentedError[]) {
  const codes = [...new Set(list.map((entry) => entry.code))];
  const headers = [...new Set(list.flatMap((entry) => entry.headers))];
  return {
    description: codes.map((code) => `\`${code}\``).join(', '),
    ...(headers.length > 0 ? { headers: Object.fromEntries(headers.map((name) => [name, HEADERS[name] ?? { schema: { type: 'string' } }])) } : {}),
    content: {
      'application/json': {
        schema: { type: 'object', allOf: [{ $ref: getSchemaPath(OAuthErrorDto) }], properties: { error: { type: 'string', enum: codes } } },
      },
    },
  };
}

/** A 303 See Other to `where`, as the SSO and local sign-in routes answer; they may set the approval-grant cookie. */
export function ApiSeeOther(where: string, setsCookie = false) {
  return applyDecorators(
    ApiResponse({
      status: 303,
      description: `See Other: ${where}`,
      headers: {
        Location: { description: where, schema: { type: 'string', format: 'uri-reference' } },
        ...(setsCookie ? { 'Set-Cookie': { description: 'The approval-grant cookie (HttpOnly, SameSite=Lax)', schema: { type: 'string' } } } : {}),
      },
    }),
  );
}

/**
 * RFC 6749 §2.3 at an endpoint a client calls: client_secret_basic in the
 * Authorization header, or client_id (and client_secret_post) in the body.
 */
export function ApiClientAuthentication() {
  return applyDecorators(ApiSecurity('client_secret_basic'), ApiSecurity({}));
}
