// Checks the Kubernetes objects (a JSON array) on stdin against the JSON schemas of kubernetes-models
// (the Kubernetes OpenAPI schemas, ESM only, hence this process of its own) and, for monitoring.coreos.com,
// of @kubernetes-models/prometheus-operator; prints one line per problem, nothing when every object is valid.
// An object of a kind without a schema is a problem too, so nothing passes unchecked.
const MODULES = { 'monitoring.coreos.com': '@kubernetes-models/prometheus-operator' };

let text = '';
for await (const chunk of process.stdin) text += chunk;

for (const object of JSON.parse(text)) {
  const where = `${object.kind}/${object.metadata?.name}`;
  const group = object.apiVersion.includes('/') ? object.apiVersion.split('/')[0] : '';
  const module = await import(`${MODULES[group] ?? 'kubernetes-models'}/${object.apiVersion}`).catch(() => ({}));
  const Model = module[object.kind];
  if (!Model) {
    console.log(`${where}: no schema for ${object.apiVersion} ${object.kind}`);
    continue;
  }
  try {
    new Model(object).validate();
  } catch (error) {
    console.log(`${where}: ${error.message}`);
  }
}
