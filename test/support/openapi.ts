import { execFileSync } from 'node:child_process';
import { join } from 'node:path';

export interface OpenApiValidation {
  valid: boolean;
  version: string;
  errors: unknown;
  /** Schemas that are not strict JSON Schema 2020-12 (unknown keywords, broken references), or missing. */
  schemaProblems: string[];
}

/** The verdict of @seriousme/openapi-schema-validator on a document, and of its Ajv on every schema in it. */
export function validateOpenApi(document: unknown): OpenApiValidation {
  const output = execFileSync(process.execPath, [join(__dirname, 'openapi-validate.mjs')], {
    input: JSON.stringify(document),
    encoding: 'utf8',
    timeout: 20_000,
  });
  return JSON.parse(output) as OpenApiValidation;
}
