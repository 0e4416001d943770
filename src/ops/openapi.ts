import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { INestApplication } from '@nestjs/common';
import { DocumentBuilder, type OpenAPIObject, SwaggerModule } from '@nestjs/swagger';
import { OAuthErrorDto } from '../common/dto/oauth-error.dto';
import type { AppConfig } from '../config/app-config';
import { APPROVAL_GRANT_COOKIE } from '../sso-bridge/approval-grant.service';

const DOCS_PATH = 'docs';

/**
 * The OpenAPI 3.1 document of every documented route, from the DTOs and
 * decorators of the controllers. @nestjs/swagger writes OpenAPI 3.0 schema
 * dialect; the few 3.0-only keywords it emits are rewritten as JSON Schema
 * 2020-12 so that the document is 3.1 through and through.
 */
export function buildOpenApiDocument(app: INestApplication, config: AppConfig): OpenAPIObject {
  const builder = new DocumentBuilder()
    .setOpenAPIVersion('3.1.0')
    .setTitle('devicegate')
    .setDescription(
      'OAuth 2.0 Device Authorization Grant (RFC 8628) authorization server. Errors are RFC 6749 §5.2 JSON: `{"error", "error_description"}`.',
    )
    .setVersion(packageVersion())
    .addServer(config.publicUrl)
    // addSecurity, not addBearerAuth: that one adds bearerFormat JWT, and devicegate's tokens are opaque.
    .addSecurity('bearer', {
      type: 'http',
      scheme: 'bearer',
      description: 'An opaque devicegate access token (`dgat_…`), as /oauth/token hands it out (RFC 6750)',
    })
    .addSecurity('client_secret_basic', {
      type: 'http',
      scheme: 'basic',
      description: 'client_secret_basic (RFC 6749 §2.3.1): client_id and client_secret of a confidential client',
    })
    .addSecurity('approval_grant', {
      type: 'apiKey',
      in: 'cookie',
      name: APPROVAL_GRANT_COOKIE,
      description: 'The approval-grant cookie a sign-in sets (HttpOnly, single use)',
    })
    .build();
  const document = SwaggerModule.createDocument(app, builder, { extraModels: [OAuthErrorDto] });
  return toOpenApi31(document);
}

/** Serves the UI at /docs and the document at /docs-json and /docs-yaml, when DOCS_ENABLED. */
export function setupOpenApiDocs(app: INestApplication, config: AppConfig): void {
  if (!config.docsEnabled) return;
  SwaggerModule.setup(DOCS_PATH, app, buildOpenApiDocument(app, config));
}

function packageVersion(): string {
  for (let folder = __dirname; ; folder = dirname(folder)) {
    const file = join(folder, 'package.json');
    if (existsSync(file)) {
      const manifest = JSON.parse(readFileSync(file, 'utf8')) as { name?: string; version?: string };
      if (manifest.name === 'devicegate' && manifest.version) return manifest.version;
    }
    if (dirname(folder) === folder) throw new Error('package.json of devicegate not found');
  }
}

/**
 * OpenAPI 3.1 schemas are JSON Schema 2020-12: `nullable` becomes a `null`
 * type (or a `null` alternative beside a reference), and the boolean
 * `exclusiveMinimum`/`exclusiveMaximum` of 3.0 become the bound itself.
 */
function toOpenApi31(document: OpenAPIObject): OpenAPIObject {
  const convert = (value: unknown): unknown => {
    if (Array.isArray(value)) return value.map(convert);
    if (!value || typeof value !== 'object') return value;
    const node: Record<string, unknown> = Object.fromEntries(Object.entries(value).map(([key, child]) => [key, convert(child)]));
    if (node.nullable === true) {
      delete node.nullable;
      if (node.$ref || node.allOf || node.oneOf || node.anyOf) {
        const { description, ...schema } = node;
        return { ...(description ? { description } : {}), oneOf: [schema, { type: 'null' }] };
      }
      if (typeof node.type === 'string') node.type = [node.type, 'null'];
      else if (Array.isArray(node.type) && !node.type.includes('null')) node.type = [...node.type, 'null'];
      if (Array.isArray(node.enum) && !node.enum.includes(null)) node.enum = [...node.enum, null];
    } else if (node.nullable === false) {
      delete node.nullable;
    }
    for (const [flag, bound] of [
      ['exclusiveMinimum', 'minimum'],
      ['exclusiveMaximum', 'maximum'],
    ] as const) {
      if (typeof node[flag] === 'boolean') {
        if (node[flag]) node[flag] = node[bound];
        else delete node[flag];
        if (node[flag] !== undefined) delete node[bound];
      }
    }
    return node;
  };
  const { components, paths, ...rest } = document;
  return { ...rest, paths: convert(paths) as OpenAPIObject['paths'], components: convert(components) as OpenAPIObject['components'] };
}
