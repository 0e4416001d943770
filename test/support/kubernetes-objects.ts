import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import * as ts from 'typescript';

export interface KubernetesObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  [field: string]: unknown;
}

const ROOT = join(__dirname, '..', '..');
const TYPE_MODULES: Record<string, string> = { 'monitoring.coreos.com': '@kubernetes-models/prometheus-operator' };

/**
 * Every problem of these objects against the Kubernetes schemas, one line each; empty when all are valid.
 * The JSON schemas of kubernetes-models check types, formats, enums and required fields, but accept a
 * field the API does not have (the Kubernetes OpenAPI document leaves additionalProperties open, and the
 * API server drops such a field, at most with a warning); the same package's TypeScript declarations
 * refuse it, so each object is also type-checked as an object literal of its kind's interface.
 */
export function kubernetesProblems(objects: KubernetesObject[]): string[] {
  const schemaProblems = execFileSync(process.execPath, [join(__dirname, 'kubernetes-validate.mjs')], {
    cwd: ROOT,
    input: JSON.stringify(objects),
    encoding: 'utf8',
  })
    .split('\n')
    .filter(Boolean);
  return [...schemaProblems, ...unknownFieldProblems(objects)];
}

function unknownFieldProblems(objects: KubernetesObject[]): string[] {
  const file = join(ROOT, 'test', 'kubernetes-objects.generated.ts');
  const lines = objects.map((object, index) => {
    const group = object.apiVersion.includes('/') ? object.apiVersion.split('/')[0] : '';
    const module = `${TYPE_MODULES[group] ?? 'kubernetes-models'}/${object.apiVersion}/${object.kind}`;
    return `export const object${index}: import(${JSON.stringify(module)}).I${object.kind} = ${JSON.stringify(object)};`;
  });
  const source = lines.join('\n');
  const options: ts.CompilerOptions = {
    strict: true,
    noEmit: true,
    skipLibCheck: true,
    target: ts.ScriptTarget.ES2022,
    module: ts.ModuleKind.ESNext,
    moduleResolution: ts.ModuleResolutionKind.Bundler,
    types: [],
  };
  const host = ts.createCompilerHost(options);
  const { getSourceFile, fileExists, readFile } = host;
  host.getSourceFile = (name, language, ...rest) =>
    name === file ? ts.createSourceFile(name, source, language) : getSourceFile.call(host, name, language, ...rest);
  host.fileExists = (name) => name === file || fileExists.call(host, name);
  host.readFile = (name) => (name === file ? source : readFile.call(host, name));
  const program = ts.createProgram([file], options, host);
  return ts.getPreEmitDiagnostics(program).map((diagnostic) => {
    const line = diagnostic.file && diagnostic.start !== undefined ? diagnostic.file.getLineAndCharacterOfPosition(diagnostic.start).line : -1;
    const object = objects[line];
    const where = object ? `${object.kind}/${object.metadata.name}` : 'the objects';
    return `${where}: ${ts.flattenDiagnosticMessageText(diagnostic.messageText, ' ')}`;
  });
}
