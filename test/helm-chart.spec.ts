import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse, parseAllDocuments, stringify } from 'yaml';
import { hashPasswordSync } from '../src/common/crypto';
import { loadConfig } from '../src/config/load-config';
import { signInProblems } from '../src/startup/sign-in-readiness';
import { helmBinary } from './support/helm';
import { KubernetesObject, kubernetesProblems } from './support/kubernetes-objects';

const ROOT = join(__dirname, '..');
const CHART = join(ROOT, 'deploy/helm/devicegate');
const RELEASE = 'dg';
const NAMESPACE = 'auth';

interface Container {
  name: string;
  image: string;
  command?: string[];
  env?: { name: string; valueFrom?: { secretKeyRef?: { name: string; key: string } } }[];
  envFrom?: { configMapRef?: { name: string }; secretRef?: { name: string } }[];
  ports?: { name: string; containerPort: number }[];
  readinessProbe?: Probe;
  livenessProbe?: Probe;
  startupProbe?: Probe;
  resources?: { requests?: Record<string, string>; limits?: Record<string, string> };
  securityContext?: Record<string, unknown>;
  volumeMounts?: { name: string; mountPath: string }[];
}
interface Probe {
  httpGet?: { path: string; port: string | number };
  periodSeconds: number;
  timeoutSeconds: number;
  failureThreshold: number;
}
interface PodSpec {
  containers: Container[];
  initContainers?: Container[];
  securityContext?: Record<string, unknown>;
  volumes?: { name: string; emptyDir?: object; configMap?: { name: string } }[];
  topologySpreadConstraints?: { topologyKey: string; labelSelector: { matchLabels: Record<string, string> } }[];
  automountServiceAccountToken?: boolean;
}
interface PodTemplate {
  metadata: { labels: Record<string, string>; annotations?: Record<string, string> };
  spec: PodSpec;
}

const secretValues = {
  secretKeys: `k1:${randomBytes(48).toString('base64')}`,
  databaseUrl: 'postgres://devicegate:pg-secret-7f3a@db.internal:5432/devicegate',
  redisUrl: 'redis://:redis-secret-91c2@cache.internal:6379',
  extra: { DEVICEGATE_ADMIN_PASSWORD_HASH: hashPasswordSync('a long passphrase') },
};
const PRODUCTION = { publicUrl: 'https://login.example.com', secrets: secretValues };

const README = readFileSync(join(ROOT, 'README.md'), 'utf8');
const README_VALUES = parse(/with, in `devicegate-values.yaml`:\n\n```yaml\n([\s\S]*?)```/.exec(README)?.[1] ?? '') as object;

const namespaced = (name: string) => ({ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': name } } });
const INGRESS_NAMESPACE = namespaced('ingress-nginx');
const MONITORING_NAMESPACE = namespaced('monitoring');
const DATA_EGRESS = { to: [namespaced('data')], ports: [{ port: 5432 }, { port: 6379 }] };

/** The value sets the chart is rendered with: its defaults, each switch an operator turns, and the README's. */
const VALUE_SETS: Record<string, object> = {
  defaults: {},
  production: PRODUCTION,
  existingSecret: { publicUrl: 'https://login.example.com', secrets: { existingSecret: 'devicegate-secrets' } },
  serviceMonitor: { metrics: { serviceMonitor: { enabled: true, labels: { release: 'kube-prometheus-stack' } } } },
  fixedReplicas: { autoscaling: { enabled: false }, replicaCount: 3 },
  initContainer: { ...PRODUCTION, migrations: { mode: 'initContainer' } },
  noMigrations: { migrations: { mode: 'none' } },
  ingress: { ingress: { enabled: true, className: 'nginx', tls: [{ secretName: 'devicegate-tls', hosts: ['login.example.com'] }] } },
  networkPolicy: {
    metrics: { serviceMonitor: { enabled: true } },
    networkPolicy: { enabled: true, http: { from: [INGRESS_NAMESPACE] }, metrics: { from: [MONITORING_NAMESPACE] }, egress: { enabled: true, to: [DATA_EGRESS] } },
  },
  openNetworkPolicy: { networkPolicy: { enabled: true } },
  readme: README_VALUES,
};

let helm: string;
let folder: string;
const rendered: Record<string, KubernetesObject[]> = {};

function valuesFile(values: object): string {
  const file = join(folder, `values-${randomBytes(4).toString('hex')}.yaml`);
  writeFileSync(file, stringify(values));
  return file;
}

function helmRun(args: string[]): string {
  return execFileSync(helm, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

function render(values: object): KubernetesObject[] {
  const output = helmRun(['template', RELEASE, CHART, '--namespace', NAMESPACE, '--values', valuesFile(values)]);
  return parseAllDocuments(output)
    .map((document) => document.toJSON() as KubernetesObject | null)
    .filter((object): object is KubernetesObject => object !== null);
}

function find(objects: KubernetesObject[], kind: string, name?: string): KubernetesObject[] {
  return objects.filter((object) => object.kind === kind && (name === undefined || object.metadata.name === name));
}

function one(objects: KubernetesObject[], kind: string, name?: string): KubernetesObject & { spec: any; data?: Record<string, string> } {
  const found = find(objects, kind, name);
  expect([kind, name, found.length]).toEqual([kind, name, 1]);
  return found[0] as KubernetesObject & { spec: any };
}

function deploymentPod(objects: KubernetesObject[]): PodTemplate {
  return one(objects, 'Deployment').spec.template as PodTemplate;
}

function server(objects: KubernetesObject[]): Container {
  const [container] = deploymentPod(objects).spec.containers;
  return container;
}

/** Every pod the chart can start: the server's, the migration Job's and the test's. */
function podSpecs(objects: KubernetesObject[]): [string, PodSpec][] {
  return objects.flatMap((object): [string, PodSpec][] => {
    const spec = object.spec as { template?: { spec: PodSpec } } & PodSpec;
    if (object.kind === 'Deployment' || object.kind === 'Job') return [[`${object.kind}/${object.metadata.name}`, spec.template!.spec]];
    if (object.kind === 'Pod') return [[`Pod/${object.metadata.name}`, spec]];
    return [];
  });
}

function matches(selector: Record<string, string>, labels: Record<string, string>): boolean {
  return Object.entries(selector).every(([key, value]) => labels[key] === value);
}

function decoded(secret: { data?: Record<string, string> }): Record<string, string> {
  return Object.fromEntries(Object.entries(secret.data ?? {}).map(([key, value]) => [key, Buffer.from(value, 'base64').toString('utf8')]));
}

beforeAll(() => {
  helm = helmBinary();
  folder = mkdtempSync(join(tmpdir(), 'devicegate-chart-'));
  for (const [name, values] of Object.entries(VALUE_SETS)) rendered[name] = render(values);
}, 300_000);

afterAll(() => {
  if (folder) rmSync(folder, { recursive: true, force: true });
});

describe('the Helm chart in deploy/helm/devicegate', () => {
  it('passes helm lint --strict with its defaults and with production values', () => {
    expect(helmRun(['lint', '--strict', CHART])).toContain('0 chart(s) failed');
    expect(helmRun(['lint', '--strict', CHART, '--values', valuesFile(PRODUCTION)])).toContain('0 chart(s) failed');
  });

  it('renders, with every value set, only objects that the Kubernetes schemas accept, unknown fields refused', () => {
    const all = Object.values(rendered).flat();
    expect(Object.keys(README_VALUES)).toContain('publicUrl');
    expect(new Set(all.map((object) => object.kind))).toEqual(
      new Set(['ConfigMap', 'Deployment', 'HorizontalPodAutoscaler', 'Ingress', 'Job', 'NetworkPolicy', 'PodDisruptionBudget', 'Pod', 'Secret', 'Service', 'ServiceAccount', 'ServiceMonitor']),
    );
    expect(kubernetesProblems(all)).toEqual([]);
  }, 120_000);

  it('reports a misspelled field and a wrongly typed one', () => {
    const deployment = structuredClone(one(rendered.defaults, 'Deployment'));
    const container = deployment.spec.template.spec.containers[0];
    container.readinesProbe = container.readinessProbe;
    const service = structuredClone(one(rendered.defaults, 'Service', `${RELEASE}-devicegate`));
    service.spec.ports[0].port = 'eighty';
    const problems = kubernetesProblems([deployment, service]);
    expect(problems.some((problem) => problem.startsWith(`Deployment/${RELEASE}-devicegate:`) && problem.includes('readinesProbe'))).toBe(true);
    expect(problems.some((problem) => problem.startsWith(`Service/${RELEASE}-devicegate:`) && problem.includes('must be integer'))).toBe(true);
  }, 120_000);

  it('probes readiness on /readyz, liveness and startup on /healthz, all on the http port, which is PORT', () => {
    const container = server(rendered.defaults);
    expect(container.readinessProbe?.httpGet).toEqual({ path: '/readyz', port: 'http' });
    expect(container.livenessProbe?.httpGet).toEqual({ path: '/healthz', port: 'http' });
    expect(container.startupProbe?.httpGet).toEqual({ path: '/healthz', port: 'http' });
    const environment = one(rendered.defaults, 'ConfigMap', `${RELEASE}-devicegate-env`).data!;
    expect(container.ports?.find((port) => port.name === 'http')?.containerPort).toBe(Number(environment.PORT));
    for (const probe of [container.readinessProbe!, container.livenessProbe!, container.startupProbe!]) {
      expect(probe.timeoutSeconds).toBeLessThanOrEqual(probe.periodSeconds * 2);
    }
    // Liveness gives up later than readiness: a dependency outage takes a pod out of the Service, never restarts it.
    const liveness = container.livenessProbe!;
    const readiness = container.readinessProbe!;
    const startup = container.startupProbe!;
    expect(liveness.periodSeconds * liveness.failureThreshold).toBeGreaterThan(readiness.periodSeconds * readiness.failureThreshold);
    expect(readiness.periodSeconds * readiness.failureThreshold).toBe(10);
    expect(startup.periodSeconds * startup.failureThreshold).toBe(60);
    expect(container.command).toEqual(['node', 'dist/src/main.js']);
    // Endpoints stop sending before SIGTERM starts the drain, which has the grace period to finish.
    expect((container as { lifecycle?: object }).lifecycle).toEqual({ preStop: { exec: { command: ['sleep', '5'] } } });
    expect((deploymentPod(rendered.defaults).spec as { terminationGracePeriodSeconds?: number }).terminationGracePeriodSeconds).toBe(30);
  });

  it('serves metrics on METRICS_PORT 9464 through a ClusterIP Service of its own; the main Service has only http', () => {
    const objects = rendered.defaults;
    const environment = one(objects, 'ConfigMap', `${RELEASE}-devicegate-env`).data!;
    expect(environment.METRICS_PORT).toBe('9464');
    expect(server(objects).ports).toEqual([
      { name: 'http', containerPort: 3000, protocol: 'TCP' },
      { name: 'metrics', containerPort: 9464, protocol: 'TCP' },
    ]);
    const main = one(objects, 'Service', `${RELEASE}-devicegate`);
    expect(main.spec.ports.map((port: { targetPort: string }) => port.targetPort)).toEqual(['http']);
    const metrics = one(objects, 'Service', `${RELEASE}-devicegate-metrics`);
    expect(metrics.spec.type).toBe('ClusterIP');
    expect(metrics.spec.ports).toEqual([{ name: 'metrics', port: 9464, targetPort: 'metrics', protocol: 'TCP' }]);
    expect(find(objects, 'ServiceMonitor')).toEqual([]);
  });

  it('with serviceMonitor.enabled, scrapes /metrics of the metrics Service, and only that one', () => {
    const objects = rendered.serviceMonitor;
    const monitor = one(objects, 'ServiceMonitor');
    expect(monitor.metadata.labels?.release).toBe('kube-prometheus-stack');
    expect(monitor.spec.endpoints).toEqual([{ port: 'metrics', path: '/metrics', interval: '30s', scrapeTimeout: '10s' }]);
    const selected = find(objects, 'Service').filter((service) => matches(monitor.spec.selector.matchLabels, service.metadata.labels ?? {}));
    expect(selected.map((service) => service.metadata.name)).toEqual([`${RELEASE}-devicegate-metrics`]);
  });

  it('runs every container as a non-root uid with a read-only root filesystem, no capability and seccomp RuntimeDefault', () => {
    for (const [set, objects] of Object.entries(rendered)) {
      for (const [where, pod] of podSpecs(objects)) {
        expect([set, where, pod.securityContext?.runAsNonRoot, pod.securityContext?.seccompProfile]).toEqual([set, where, true, { type: 'RuntimeDefault' }]);
        // The image's USER is the name "node": the kubelet can verify runAsNonRoot only with a numeric uid.
        expect([set, where, pod.securityContext?.runAsUser]).toEqual([set, where, 1000]);
        expect([set, where, pod.automountServiceAccountToken]).toEqual([set, where, false]);
        for (const container of [...(pod.initContainers ?? []), ...pod.containers]) {
          const label = `${set} ${where} ${container.name}`;
          expect([label, container.securityContext]).toEqual([
            label,
            expect.objectContaining({ readOnlyRootFilesystem: true, allowPrivilegeEscalation: false, runAsNonRoot: true, capabilities: { drop: ['ALL'] } }),
          ]);
          if (where.startsWith('Pod/')) continue;
          // The one writable path: an emptyDir at /tmp.
          expect([label, container.volumeMounts?.find((mount) => mount.mountPath === '/tmp')?.name]).toEqual([label, 'tmp']);
          expect([label, pod.volumes?.find((volume) => volume.name === 'tmp')?.emptyDir]).toEqual([label, expect.any(Object)]);
        }
      }
    }
  });

  it('mounts the config file from a ConfigMap, read-only, where DEVICEGATE_CONFIG points', () => {
    const objects = rendered.defaults;
    const pod = deploymentPod(objects);
    const environment = one(objects, 'ConfigMap', `${RELEASE}-devicegate-env`).data!;
    const mount = server(objects).volumeMounts?.find((volumeMount) => volumeMount.name === 'config');
    expect(mount).toEqual({ name: 'config', mountPath: '/etc/devicegate', readOnly: true });
    expect(pod.spec.volumes?.find((volume) => volume.name === 'config')?.configMap?.name).toBe(`${RELEASE}-devicegate-config`);
    expect(environment.DEVICEGATE_CONFIG).toBe('/etc/devicegate/devicegate.yaml');
    expect(environment.NODE_ENV).toBe('production');
    const file = parse(one(objects, 'ConfigMap', `${RELEASE}-devicegate-config`).data!['devicegate.yaml']);
    expect(file.users[0].password_hash).toBe('${DEVICEGATE_ADMIN_PASSWORD_HASH}');
    expect(server(objects).envFrom).toEqual([{ configMapRef: { name: `${RELEASE}-devicegate-env` } }, { secretRef: { name: `${RELEASE}-devicegate` } }]);
  });

  /** The configuration devicegate loads in a server pod: the env ConfigMap, then the Secret's variables, and the mounted file. */
  function loadRendered(objects: KubernetesObject[], secretEnvironment: Record<string, string>) {
    const configFile = join(folder, 'devicegate.yaml');
    writeFileSync(configFile, one(objects, 'ConfigMap', `${RELEASE}-devicegate-config`).data!['devicegate.yaml']);
    return loadConfig({ ...one(objects, 'ConfigMap', `${RELEASE}-devicegate-env`).data!, ...secretEnvironment, DEVICEGATE_CONFIG: configFile });
  }

  it('renders a configuration devicegate accepts in production: the ConfigMaps and the Secret, as the pod sees them', () => {
    const objects = rendered.production;
    const config = loadRendered(objects, decoded(one(objects, 'Secret', `${RELEASE}-devicegate`)));
    expect([config.env, config.mode, config.publicUrl, config.port, config.metricsPort]).toEqual([
      'production',
      'external',
      'https://login.example.com',
      3000,
      9464,
    ]);
    expect(config.localUsers.map((user) => user.username)).toEqual(['admin']);
    expect(signInProblems(config)).toEqual([]);
  });

  it("renders the README's values into a configuration devicegate accepts, with the variables of the README's Secret", () => {
    const objects = rendered.readme;
    const command = README.slice(README.indexOf('kubectl -n auth create secret generic devicegate'));
    const names = [...command.slice(0, command.indexOf('\nhelm install')).matchAll(/--from-literal=([A-Z_]+)=/g)].map((match) => match[1]);
    expect(names).toEqual(['SECRET_KEYS', 'DATABASE_URL', 'REDIS_URL', 'DEVICEGATE_ADMIN_PASSWORD_HASH']);
    expect(server(objects).envFrom).toContainEqual({ secretRef: { name: 'devicegate' } });
    const config = loadRendered(objects, {
      SECRET_KEYS: secretValues.secretKeys,
      DATABASE_URL: secretValues.databaseUrl,
      REDIS_URL: secretValues.redisUrl,
      DEVICEGATE_ADMIN_PASSWORD_HASH: secretValues.extra.DEVICEGATE_ADMIN_PASSWORD_HASH,
    });
    expect(signInProblems(config)).toEqual([]);
    expect(server(objects).image).toBe('registry.example.com/devicegate:0.1.0');
    expect(one(objects, 'Ingress').spec.tls[0].hosts).toEqual([new URL(config.publicUrl).host]);
  });

  it('keeps every secret in the Secret: no ConfigMap holds one, and env refuses the secret variables', () => {
    const objects = rendered.production;
    expect(decoded(one(objects, 'Secret', `${RELEASE}-devicegate`))).toEqual({
      SECRET_KEYS: secretValues.secretKeys,
      DATABASE_URL: secretValues.databaseUrl,
      REDIS_URL: secretValues.redisUrl,
      DEVICEGATE_ADMIN_PASSWORD_HASH: secretValues.extra.DEVICEGATE_ADMIN_PASSWORD_HASH,
    });
    const configMaps = JSON.stringify(find(objects, 'ConfigMap'));
    for (const value of [secretValues.secretKeys, secretValues.databaseUrl, secretValues.redisUrl, secretValues.extra.DEVICEGATE_ADMIN_PASSWORD_HASH]) {
      expect(configMaps).not.toContain(value);
    }
    for (const name of ['SECRET_KEYS', 'DATABASE_URL', 'REDIS_URL']) {
      expect(() => render({ env: { [name]: 'x' } })).toThrow(`env.${name} would put a secret in a ConfigMap`);
    }
  });

  it('with an existing Secret, makes none and reads that one in the server and in the migration Job', () => {
    const objects = rendered.existingSecret;
    expect(find(objects, 'Secret')).toEqual([]);
    expect(server(objects).envFrom).toContainEqual({ secretRef: { name: 'devicegate-secrets' } });
    const job = one(objects, 'Job');
    expect(job.spec.template.spec.containers[0].env).toEqual([
      { name: 'DATABASE_URL', valueFrom: { secretKeyRef: { name: 'devicegate-secrets', key: 'DATABASE_URL' } } },
    ]);
    expect(deploymentPod(objects).metadata.annotations?.['checksum/secret']).toBeUndefined();
  });

  it('runs the migrations as a pre-install/pre-upgrade Job with the production command, its Secret made before it', () => {
    const objects = rendered.production;
    const compose = parse(readFileSync(join(ROOT, 'docker-compose.yml'), 'utf8')) as { services: { migrate: { command: string[] } } };
    const job = one(objects, 'Job', `${RELEASE}-devicegate-migrate`);
    const [container] = job.spec.template.spec.containers as Container[];
    expect(container.command).toEqual(compose.services.migrate.command);
    expect(container.command).toEqual(['node', 'dist/src/cli/migrate.js']);
    expect(container.image).toBe(server(objects).image);
    expect(job.metadata.annotations).toEqual({
      'helm.sh/hook': 'pre-install,pre-upgrade',
      'helm.sh/hook-weight': '0',
      'helm.sh/hook-delete-policy': 'before-hook-creation',
    });
    expect(job.spec.template.spec.restartPolicy).toBe('Never');
    // A pre-install hook runs before the release's own objects exist: its Secret is a hook too, made first.
    const secretName = container.env?.[0].valueFrom?.secretKeyRef?.name;
    const secret = one(objects, 'Secret', secretName);
    expect(Number(secret.metadata.annotations?.['helm.sh/hook-weight'])).toBeLessThan(Number(job.metadata.annotations?.['helm.sh/hook-weight']));
    expect(secret.metadata.annotations?.['helm.sh/hook']).toBe('pre-install,pre-upgrade');
    expect(secret.metadata.annotations?.['helm.sh/hook-delete-policy']).toBe('before-hook-creation,hook-succeeded');
    expect(decoded(secret)).toEqual({ DATABASE_URL: secretValues.databaseUrl });
    expect(job.spec.template.spec.volumes.map((volume: { name: string }) => volume.name)).toEqual(['tmp']);
    expect(deploymentPod(objects).spec.initContainers).toBeUndefined();
  });

  it('runs the same command in an init container of every server pod instead, or not at all', () => {
    const objects = rendered.initContainer;
    expect(find(objects, 'Job')).toEqual([]);
    const [init] = deploymentPod(objects).spec.initContainers ?? [];
    expect(init.command).toEqual(['node', 'dist/src/cli/migrate.js']);
    expect(init.image).toBe(server(objects).image);
    expect(init.env).toEqual([{ name: 'DATABASE_URL', valueFrom: { secretKeyRef: { name: `${RELEASE}-devicegate`, key: 'DATABASE_URL' } } }]);
    expect(find(rendered.noMigrations, 'Job')).toEqual([]);
    expect(deploymentPod(rendered.noMigrations).spec.initContainers).toBeUndefined();
  });

  it('scales on CPU with an HPA that owns the replica count, or with replicaCount when autoscaling is off', () => {
    const hpa = one(rendered.defaults, 'HorizontalPodAutoscaler');
    expect(hpa.apiVersion).toBe('autoscaling/v2');
    expect(hpa.spec.scaleTargetRef).toEqual({ apiVersion: 'apps/v1', kind: 'Deployment', name: `${RELEASE}-devicegate` });
    expect(hpa.spec.metrics).toEqual([{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 70 } } }]);
    expect([hpa.spec.minReplicas, hpa.spec.maxReplicas]).toEqual([2, 10]);
    expect(one(rendered.defaults, 'Deployment').spec.replicas).toBeUndefined();
    // Utilization is a share of the request: without a CPU request the HPA has nothing to divide by.
    expect(server(rendered.defaults).resources).toEqual({ requests: { cpu: '250m', memory: '256Mi' }, limits: { memory: '512Mi' } });

    expect(find(rendered.fixedReplicas, 'HorizontalPodAutoscaler')).toEqual([]);
    expect(one(rendered.fixedReplicas, 'Deployment').spec.replicas).toBe(3);
  });

  it('has a PodDisruptionBudget and Services that select the server pods and neither the migration nor the test pod', () => {
    const objects = rendered.defaults;
    const pdb = one(objects, 'PodDisruptionBudget');
    expect(pdb.spec.maxUnavailable).toBe(1);
    const serverLabels = deploymentPod(objects).metadata.labels;
    const otherPods = [one(objects, 'Job').spec.template.metadata.labels, one(objects, 'Pod').metadata.labels ?? {}];
    const selectors = [pdb.spec.selector.matchLabels, ...find(objects, 'Service').map((service) => (service.spec as { selector: Record<string, string> }).selector)];
    for (const selector of selectors) {
      expect(matches(selector, serverLabels)).toBe(true);
      for (const labels of otherPods) expect(matches(selector, labels)).toBe(false);
    }
    expect(matches(one(objects, 'Deployment').spec.selector.matchLabels, serverLabels)).toBe(true);
  });

  it('with networkPolicy.enabled, lets into the server pods only http (from the peers listed) and metrics (from its peers)', () => {
    expect(find(rendered.defaults, 'NetworkPolicy')).toEqual([]);
    const objects = rendered.networkPolicy;
    const policy = one(objects, 'NetworkPolicy');
    expect(matches(policy.spec.podSelector.matchLabels, deploymentPod(objects).metadata.labels)).toBe(true);
    for (const labels of [one(objects, 'Job').spec.template.metadata.labels, one(objects, 'Pod').metadata.labels ?? {}]) {
      expect(matches(policy.spec.podSelector.matchLabels, labels)).toBe(false);
    }
    expect(server(objects).ports?.map((port) => port.name)).toEqual(['http', 'metrics']);
    expect(policy.spec.ingress).toEqual([
      { ports: [{ port: 'http', protocol: 'TCP' }], from: [INGRESS_NAMESPACE] },
      { ports: [{ port: 'metrics', protocol: 'TCP' }], from: [MONITORING_NAMESPACE] },
    ]);
    // Egress: DNS, then only what the operator listed.
    expect(policy.spec.policyTypes).toEqual(['Ingress', 'Egress']);
    expect(policy.spec.egress).toEqual([
      { ports: [{ port: 53, protocol: 'UDP' }, { port: 53, protocol: 'TCP' }] },
      DATA_EGRESS,
    ]);

    // With no peers listed: http from anywhere, metrics from no one, egress not restricted.
    const open = one(rendered.openNetworkPolicy, 'NetworkPolicy');
    expect(open.spec.ingress).toEqual([{ ports: [{ port: 'http', protocol: 'TCP' }] }]);
    expect(open.spec.policyTypes).toEqual(['Ingress']);
    expect(open.spec.egress).toBeUndefined();
  });

  it('spreads the server pods over nodes and zones, never leaving one Pending for it', () => {
    const pod = deploymentPod(rendered.defaults);
    const constraints = pod.spec.topologySpreadConstraints ?? [];
    expect(constraints.map((constraint) => constraint.topologyKey)).toEqual(['kubernetes.io/hostname', 'topology.kubernetes.io/zone']);
    for (const constraint of constraints) {
      expect(constraint).toMatchObject({ maxSkew: 1, whenUnsatisfiable: 'ScheduleAnyway' });
      expect(matches(constraint.labelSelector.matchLabels, pod.metadata.labels)).toBe(true);
    }
  });

  it('rolls the pods when the config file or a secret changes', () => {
    const before = deploymentPod(rendered.production).metadata.annotations!;
    const changedConfig = deploymentPod(render({ ...PRODUCTION, config: { scopes: [], clients: [] } })).metadata.annotations!;
    const changedSecret = deploymentPod(render({ ...PRODUCTION, secrets: { ...secretValues, redisUrl: 'redis://cache-2.internal:6379' } })).metadata.annotations!;
    expect(changedConfig['checksum/config']).not.toBe(before['checksum/config']);
    expect(changedConfig['checksum/secret']).toBe(before['checksum/secret']);
    expect(changedSecret['checksum/secret']).not.toBe(before['checksum/secret']);
  });

  it('exposes the http port through an optional Ingress to the main Service', () => {
    const ingress = one(rendered.ingress, 'Ingress');
    expect(ingress.spec.ingressClassName).toBe('nginx');
    expect(ingress.spec.rules[0].http.paths[0].backend).toEqual({ service: { name: `${RELEASE}-devicegate`, port: { number: 80 } } });
    expect(find(rendered.defaults, 'Ingress')).toEqual([]);
  });

  it("prints NOTES that say what an install still lacks, and nothing of the kind when it lacks nothing", () => {
    const notes = (values: object) =>
      helmRun(['install', RELEASE, CHART, '--namespace', NAMESPACE, '--dry-run=client', '--values', valuesFile(values)]).split('NOTES:')[1];
    const bare = notes({});
    expect(bare).toContain('WARNING: publicUrl is empty');
    expect(bare).toContain('WARNING: secrets.secretKeys, secrets.databaseUrl and secrets.redisUrl must all be set');
    expect(bare).toContain(`kubectl --namespace ${NAMESPACE} logs job/${RELEASE}-devicegate-migrate`);
    const complete = notes(PRODUCTION);
    expect(complete).not.toContain('WARNING');
    const scrapedThroughPolicy = { ...PRODUCTION, ...VALUE_SETS.networkPolicy };
    expect(notes(scrapedThroughPolicy)).not.toContain('WARNING');
    const unscrapable = { ...scrapedThroughPolicy, networkPolicy: { enabled: true } };
    expect(notes(unscrapable)).toContain('WARNING: the NetworkPolicy closes the metrics port to everyone');
    expect(complete).toContain(`http://${RELEASE}-devicegate-metrics.${NAMESPACE}:9464/metrics`);
  });
});
