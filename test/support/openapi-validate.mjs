// Checks the OpenAPI document on stdin and prints {"valid", "version", "errors", "schemaProblems"} as JSON:
// the verdict of @seriousme/openapi-schema-validator (ESM only, hence this process of its own), and every
// schema of the document compiled by its Ajv (JSON Schema 2020-12) in strict mode, which refuses unknown
// keywords such as OpenAPI 3.0's `nullable` (the 3.1 document schema leaves schema objects unchecked).
import { createRequire } from 'node:module';
import { Validator } from '@seriousme/openapi-schema-validator';

const require = createRequire(import.meta.resolve('@seriousme/openapi-schema-validator'));
const { default: Ajv2020 } = require('ajv/dist/2020.js');

let text = '';
for await (const chunk of process.stdin) text += chunk;
const document = JSON.parse(text);

const validator = new Validator();
const result = await validator.validate(structuredClone(document));

/** Every schema: the components, and the inline ones of parameters, bodies and responses. */
function schemasOf(document) {
  const found = Object.entries(document.components?.schemas ?? {}).map(([name, schema]) => [`#/components/schemas/${name}`, schema]);
  for (const [path, item] of Object.entries(document.paths ?? {})) {
    for (const [method, operation] of Object.entries(item)) {
      const where = `${method.toUpperCase()} ${path}`;
      for (const parameter of operation.parameters ?? []) found.push([`${where} parameter ${parameter.name}`, parameter.schema]);
      for (const [type, media] of Object.entries(operation.requestBody?.content ?? {})) found.push([`${where} body ${type}`, media.schema]);
      for (const [status, response] of Object.entries(operation.responses ?? {})) {
        for (const [type, media] of Object.entries(response.content ?? {})) found.push([`${where} ${status} ${type}`, media.schema]);
        for (const [name, header] of Object.entries(response.headers ?? {})) found.push([`${where} ${status} header ${name}`, header.schema]);
      }
    }
  }
  return found;
}

const ajv = new Ajv2020({ strict: true, allErrors: true, validateFormats: false });
ajv.addKeyword('example');
// Ajv understands OpenAPI 3.0's nullable by default; in a 3.1 document it is an unknown keyword.
ajv.removeKeyword('nullable');
const local = (schema) => JSON.parse(JSON.stringify(schema).replace(/"#\/components\/schemas\//g, '"urn:devicegate:schema:'));
for (const [name, schema] of Object.entries(document.components?.schemas ?? {})) ajv.addSchema(local(schema), `urn:devicegate:schema:${name}`);
const schemaProblems = [];
for (const [where, schema] of schemasOf(document)) {
  if (!schema) {
    schemaProblems.push(`${where}: no schema`);
    continue;
  }
  try {
    ajv.compile(local(schema));
  } catch (error) {
    schemaProblems.push(`${where}: ${error.message}`);
  }
}

process.stdout.write(JSON.stringify({ valid: result.valid, version: validator.version, errors: result.errors ?? null, schemaProblems }));
