// The Helm chart (deploy/helm/mediaflow): lint and render every worked values file with a real helm
// binary, then read the rendered manifests for what matters in production. The search-attribute
// hook's script also runs against the test Temporal server.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseAllDocuments } from 'yaml';
import { configVariables } from '#lib/config.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const CHART = path.join(root, 'deploy', 'helm', 'mediaflow');
const EXAMPLES = ['values-in-cluster.yaml', 'values-external-temporal.yaml', 'values-temporal-cloud.yaml'].map((f) =>
  path.join(CHART, 'examples', f),
);
// helm built with `go install` has no Kubernetes version stamped in (it assumes 1.20); the chart needs >= 1.25.
const KUBE_VERSION = '1.31.0';
const HELM =
  process.env.HELM_BIN || path.join(process.env.MEDIAFLOW_BIN_DIR || path.join(homedir(), '.cache', 'mediaflow', 'bin'), 'helm');

type Json = Record<string, any>;
interface Manifest extends Json {
  kind: string;
  metadata: { name: string; labels?: Record<string, string>; annotations?: Record<string, string> };
}

function helm(args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(HELM, args, { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  if (r.error) throw r.error;
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

function template(valuesFiles: string[], extra: string[] = []): { status: number | null; stdout: string; stderr: string } {
  return helm(['template', 'mf', CHART, '--kube-version', KUBE_VERSION, ...valuesFiles.flatMap((f) => ['-f', f]), ...extra]);
}

function render(valuesFiles: string[], extra: string[] = []): Manifest[] {
  const r = template(valuesFiles, extra);
  if (r.status !== 0) throw new Error(`helm template failed:\n${r.stderr}`);
  return parseAllDocuments(r.stdout)
    .map((d) => d.toJS() as Manifest | null)
    .filter((m): m is Manifest => m !== null);
}

const byKind = (ms: Manifest[], kind: string) => ms.filter((m) => m.kind === kind);
const component = (m: Manifest) => m.metadata.labels?.['app.kubernetes.io/component'];
const podSpec = (m: Manifest): Json => m.spec.template.spec;
const workloads = (ms: Manifest[]) => ms.filter((m) => m.kind === 'Deployment' || m.kind === 'Job');
const containersOf = (m: Manifest): Json[] => [...(podSpec(m).initContainers ?? []), ...podSpec(m).containers];
const envOf = (c: Json): Json[] => c.env ?? [];
const hasHandler = (probe: Json | undefined) => ['httpGet', 'tcpSocket', 'exec', 'grpc'].some((h) => probe?.[h] !== undefined);
const hookPhases = (m: Manifest) => (m.metadata.annotations?.['helm.sh/hook'] ?? '').split(',').filter(Boolean).sort();

// Secrets lib/config.ts requires in production, and the processes that use them (the worker shares the
// storage and codec keyrings with the API and signs webhook deliveries; only the API issues tokens and links).
const PRODUCTION_SECRETS: Record<string, ('api' | 'worker')[]> = {
  JWT_SECRET: ['api'],
  STORAGE_MASTER_KEYS: ['api', 'worker'],
  TEMPORAL_CODEC_KEYS: ['api', 'worker'],
  WEBHOOK_SECRET_KEY: ['api', 'worker'],
  DOWNLOAD_LINK_SECRETS: ['api'],
};

// Names that hold credentials: never in a ConfigMap, never as a plain env value.
const SECRET_NAME = /PASSWORD|SECRET|TOKEN|CREDENTIAL|(^|_)KEY$|API_KEY|^DATABASE_URL$/;
// A URL with a password in it: scheme://user:password@host.
const URL_WITH_PASSWORD = /[a-z][a-z0-9+.-]*:\/\/[^/\s:@]+:[^/\s@]+@/i;

beforeAll(() => {
  if (!existsSync(HELM)) {
    throw new Error(`helm not found at ${HELM}: scripts/bootstrap.sh builds it into $MEDIAFLOW_BIN_DIR, or set HELM_BIN`);
  }
});

describe.each(EXAMPLES.map((f) => [path.basename(f), f]))('%s', (_name, valuesFile) => {
  let manifests: Manifest[];
  beforeAll(() => {
    manifests = render([valuesFile]);
  });

  test('helm lint --strict passes', () => {
    const r = helm(['lint', '--strict', CHART, '--kube-version', KUBE_VERSION, '-f', valuesFile]);
    expect(r.stderr + r.stdout).toContain('0 chart(s) failed');
    expect(r.status).toBe(0);
  });

  test('renders the API, a worker per queue, both hook Jobs and no unknown kinds', () => {
    const kinds = new Set(manifests.map((m) => m.kind));
    for (const kind of kinds) {
      expect([
        'ServiceAccount', 'Secret', 'ConfigMap', 'Service', 'Deployment', 'HorizontalPodAutoscaler', 'PodDisruptionBudget',
        'Ingress', 'Job', 'NetworkPolicy', 'ServiceMonitor',
      ]).toContain(kind);
    }
    expect(byKind(manifests, 'Deployment').filter((d) => component(d) === 'api')).toHaveLength(1);
    expect(byKind(manifests, 'Job').map(component).sort()).toEqual(['migrations', 'search-attributes']);
  });

  test('every pod runs non-root with a read-only root filesystem, no escalation and no capabilities', () => {
    for (const w of workloads(manifests)) {
      expect([w.metadata.name, podSpec(w).securityContext?.runAsNonRoot]).toEqual([w.metadata.name, true]);
      expect(podSpec(w).automountServiceAccountToken).toBe(false);
      for (const c of containersOf(w)) {
        const sc = c.securityContext ?? {};
        expect({ workload: w.metadata.name, container: c.name, ...sc }).toMatchObject({
          runAsNonRoot: true,
          readOnlyRootFilesystem: true,
          allowPrivilegeEscalation: false,
          capabilities: { drop: ['ALL'] },
        });
        // A read-only root needs a writable /tmp (uploads, ffmpeg scratch, caches).
        expect((c.volumeMounts ?? []).map((v: Json) => v.mountPath)).toContain('/tmp');
      }
    }
  });

  test('every container has CPU and memory requests and a memory limit', () => {
    for (const w of workloads(manifests)) {
      for (const c of containersOf(w)) {
        const where = `${w.metadata.name}/${c.name}`;
        expect([where, c.resources?.requests?.cpu, c.resources?.requests?.memory, c.resources?.limits?.memory].map(Boolean)).toEqual([
          true, true, true, true,
        ]);
      }
    }
  });

  test('every Deployment has liveness and readiness probes; API liveness checks only the process, readiness the dependencies', () => {
    for (const d of byKind(manifests, 'Deployment')) {
      for (const c of d.spec.template.spec.containers as Json[]) {
        expect([d.metadata.name, hasHandler(c.livenessProbe), hasHandler(c.readinessProbe)]).toEqual([d.metadata.name, true, true]);
      }
    }
    const api = byKind(manifests, 'Deployment').find((d) => component(d) === 'api')!;
    const container = (api.spec.template.spec.containers as Json[])[0]!;
    expect(container.livenessProbe.httpGet).toMatchObject({ path: '/api/v1/health/live', port: 'ops' });
    expect(container.readinessProbe.httpGet).toMatchObject({ path: '/api/v1/health/ready', port: 'ops' });
    const spec = readFileSync(path.join(root, 'openapi', 'openapi.yaml'), 'utf8');
    expect(spec).toMatch(/^ {2}\/api\/v1\/health\/live:/m);
    expect(spec).toMatch(/^ {2}\/api\/v1\/health\/ready:/m);
    expect(container.ports).toEqual([expect.objectContaining({ name: 'http', containerPort: 3000 }), expect.objectContaining({ name: 'ops', containerPort: 9090 })]);
    expect(container.args).toEqual(['api']);
  });

  test('workers serve /healthz and /metrics on a metrics port whose number WORKER_METRICS_PORT sets', () => {
    for (const d of byKind(manifests, 'Deployment').filter((d) => component(d) === 'worker')) {
      const c = (d.spec.template.spec.containers as Json[])[0]!;
      const port = (c.ports as Json[]).find((p) => p.name === 'metrics')!;
      expect(port).toBeDefined();
      const env = Object.fromEntries(envOf(c).map((e) => [e.name, e.value]));
      expect([d.metadata.name, env.WORKER_METRICS_PORT]).toEqual([d.metadata.name, String(port.containerPort)]);
      for (const probe of [c.livenessProbe, c.readinessProbe]) expect(probe.httpGet).toMatchObject({ path: '/healthz', port: 'metrics' });
    }
  });

  test('ServiceMonitors scrape /metrics of the API (ops port) and of the workers (metrics port) through Services that exist', () => {
    const services = byKind(manifests, 'Service');
    for (const sm of byKind(manifests, 'ServiceMonitor')) {
      const target = services.find((svc) => Object.entries(sm.spec.selector.matchLabels).every(([k, v]) => svc.metadata.labels?.[k] === v));
      expect([sm.metadata.name, Boolean(target)]).toEqual([sm.metadata.name, true]);
      const endpoint = sm.spec.endpoints[0];
      expect(endpoint.path).toBe('/metrics');
      expect((target!.spec.ports as Json[]).map((p) => p.name)).toContain(endpoint.port);
      expect(endpoint.port).toBe(component(sm) === 'worker' ? 'metrics' : 'ops');
      // The Service must select pods of the component the monitor names.
      expect(target!.spec.selector['app.kubernetes.io/component']).toBe(component(sm));
    }
  });

  test('/metrics and health are not public: served on the ops port, which no Ingress or public Service routes', () => {
    const config = Object.assign({}, ...byKind(manifests, 'ConfigMap').map((cm) => cm.data ?? {})) as Record<string, string>;
    const api = byKind(manifests, 'Deployment').find((d) => component(d) === 'api')!;
    const ports = (podSpec(api).containers as Json[])[0]!.ports as Json[];
    const portOf = (name: string) => ports.find((p) => p.name === name)!.containerPort;
    expect([config.OPS_PORT, config.PORT]).toEqual([String(portOf('ops')), String(portOf('http'))]);
    // Everything an Ingress can reach: the Services it names, on the ports it names.
    const services = byKind(manifests, 'Service');
    for (const ing of byKind(manifests, 'Ingress')) {
      for (const rule of ing.spec.rules as Json[]) {
        for (const p of rule.http.paths as Json[]) {
          const svc = services.find((s) => s.metadata.name === p.backend.service.name)!;
          const port = (svc.spec.ports as Json[]).find((sp) => sp.port === p.backend.service.port.number)!;
          expect([p.path, port.targetPort]).toEqual([p.path, 'http']);
        }
      }
    }
    // Only headless Services (discovery for Prometheus) expose the ops port.
    for (const svc of services) {
      if ((svc.spec.ports as Json[]).some((p) => p.targetPort === 'ops')) expect([svc.metadata.name, svc.spec.clusterIP]).toEqual([svc.metadata.name, 'None']);
    }
  });

  test('client addresses: one trusted proxy behind the chart\'s Ingress, none without; no setting trusts every hop', () => {
    const config = Object.assign({}, ...byKind(manifests, 'ConfigMap').map((cm) => cm.data ?? {})) as Record<string, string>;
    const ingress = byKind(manifests, 'Ingress').length > 0;
    expect(config.TRUSTED_PROXY_COUNT).toBe(ingress ? '1' : '0');
    for (const gone of ['TRUST_PROXY', 'PLATFORM_ADMIN_EMAILS']) expect(config[gone]).toBeUndefined();
  });

  test('the migrations Job is a pre-install/pre-upgrade hook whose Secret exists before it runs', () => {
    const job = byKind(manifests, 'Job').find((j) => component(j) === 'migrations')!;
    expect(hookPhases(job)).toEqual(['pre-install', 'pre-upgrade']);
    expect(job.metadata.annotations?.['helm.sh/hook-delete-policy']).toContain('before-hook-creation');
    expect(containersOf(job)[0]!.args).toEqual(['migrate']);
    // Before install nothing of the release exists: a Secret it reads must be an earlier hook or not the chart's.
    const weight = Number(job.metadata.annotations?.['helm.sh/hook-weight'] ?? 0);
    for (const ref of containersOf(job).flatMap(envOf).map((e) => e.valueFrom?.secretKeyRef?.name).filter(Boolean)) {
      const rendered = byKind(manifests, 'Secret').find((s) => s.metadata.name === ref);
      if (rendered) {
        expect(hookPhases(rendered)).toEqual(['pre-install', 'pre-upgrade']);
        expect(Number(rendered.metadata.annotations?.['helm.sh/hook-weight'] ?? 0)).toBeLessThan(weight);
      }
    }
    expect(podSpec(job).envFrom).toBeUndefined();
    expect(containersOf(job).some((c) => c.envFrom)).toBe(false);
  });

  test('the search-attribute Job is a post-install/post-upgrade hook with a pinned admin-tools image', () => {
    const job = byKind(manifests, 'Job').find((j) => component(j) === 'search-attributes')!;
    expect(hookPhases(job)).toEqual(['post-install', 'post-upgrade']);
    expect(job.metadata.annotations?.['helm.sh/hook-delete-policy']).toContain('before-hook-creation');
    expect(containersOf(job)[0]!.image).toMatch(/^temporalio\/admin-tools:\d+\.\d+\.\d+/);
  });

  test('no ConfigMap holds a secret, and no container gets one as a plain value', () => {
    for (const cm of byKind(manifests, 'ConfigMap')) {
      for (const [key, value] of Object.entries((cm.data ?? {}) as Record<string, string>)) {
        expect([cm.metadata.name, key, SECRET_NAME.test(key)]).toEqual([cm.metadata.name, key, false]);
        expect([key, URL_WITH_PASSWORD.test(value)]).toEqual([key, false]);
      }
    }
    for (const w of workloads(manifests)) {
      for (const e of containersOf(w).flatMap(envOf)) {
        if (SECRET_NAME.test(e.name)) expect([w.metadata.name, e.name, e.valueFrom?.secretKeyRef?.name]).toEqual([w.metadata.name, e.name, expect.any(String)]);
        if (typeof e.value === 'string') expect([e.name, URL_WITH_PASSWORD.test(e.value)]).toEqual([e.name, false]);
      }
    }
  });

  test('a worker Deployment per queue polls its task queues, with its own HPA and PDB; together they poll all three routed queues', () => {
    const values = parseAllDocuments(readFileSync(valuesFile, 'utf8'))[0]!.toJS() as Json;
    const queues = values.worker.queues as Json[];
    const base = values.temporal.taskQueue ?? 'mediaflow';
    const routed = [`${base}-high`, base, `${base}-low`];
    const workers = byKind(manifests, 'Deployment').filter((d) => component(d) === 'worker');
    expect(workers.map((d) => d.metadata.labels!['mediaflow.io/queue']).sort()).toEqual(queues.map((q) => q.name).sort());
    const polled = workers.map((d) => {
      const c = (d.spec.template.spec.containers as Json[])[0]!;
      expect(c.args).toEqual(['worker']);
      // The base queue comes from the ConfigMap: webhooks, imports and the retention sweep run there.
      expect(envOf(c).filter((e) => e.name === 'TEMPORAL_TASK_QUEUE')).toEqual([]);
      const entry = queues.find((q) => q.name === d.metadata.labels!['mediaflow.io/queue'])!;
      const value = envOf(c).find((e) => e.name === 'WORKER_TASK_QUEUES')?.value as string;
      expect(value.split(',')).toEqual(entry.taskQueues?.length ? entry.taskQueues : routed);
      return value.split(',');
    });
    expect([...new Set(polled.flat())].sort()).toEqual(expect.arrayContaining(routed.sort()));
    const configMap = byKind(manifests, 'ConfigMap')[0]!;
    expect(configMap.data.TEMPORAL_TASK_QUEUE).toBe(base);
    for (const d of workers) {
      const autoscaled = !('replicas' in d.spec);
      const hpa = byKind(manifests, 'HorizontalPodAutoscaler').find((h) => h.spec.scaleTargetRef.name === d.metadata.name);
      expect([d.metadata.name, Boolean(hpa)]).toEqual([d.metadata.name, autoscaled]);
      const pdb = byKind(manifests, 'PodDisruptionBudget').find((p) => p.metadata.name === d.metadata.name)!;
      expect(pdb.spec.selector.matchLabels).toEqual(d.spec.selector.matchLabels);
    }
  });

  test('each secret production requires reaches exactly the containers that use it, from a Secret', () => {
    const secretNames = new Set(byKind(manifests, 'Secret').map((s) => s.metadata.name));
    for (const d of byKind(manifests, 'Deployment')) {
      const c = (d.spec.template.spec.containers as Json[])[0]!;
      const env = Object.fromEntries(envOf(c).map((e) => [e.name, e]));
      for (const [name, users] of Object.entries(PRODUCTION_SECRETS)) {
        const needs = users.includes(component(d) as 'api' | 'worker');
        expect([d.metadata.name, name, Boolean(env[name])]).toEqual([d.metadata.name, name, needs]);
        if (!needs) continue;
        const ref = env[name].valueFrom?.secretKeyRef;
        expect([d.metadata.name, name, typeof ref?.name, typeof ref?.key, ref?.optional]).toEqual([d.metadata.name, name, 'string', 'string', undefined]);
        // The chart's own Secret must hold the key it points at (an existing Secret is the operator's).
        const own = byKind(manifests, 'Secret').find((s) => s.metadata.name === ref.name);
        if (own) expect(Object.keys(own.data)).toContain(ref.key);
        else expect(secretNames.has(ref.name)).toBe(false);
      }
    }
    for (const cm of byKind(manifests, 'ConfigMap')) {
      for (const name of Object.keys(PRODUCTION_SECRETS)) expect([cm.metadata.name, name in (cm.data ?? {})]).toEqual([cm.metadata.name, false]);
    }
    // Migrations need only the database.
    const migrate = byKind(manifests, 'Job').find((j) => component(j) === 'migrations')!;
    expect(containersOf(migrate).flatMap(envOf).map((e) => e.name).filter((n) => n in PRODUCTION_SECRETS)).toEqual([]);
  });

  test('every environment variable the chart sets is one lib/config.ts reads', () => {
    const read = new Set(configVariables());
    // HOME is for native libraries.
    const notConfig = new Set(['HOME']);
    const names = [
      ...byKind(manifests, 'ConfigMap').flatMap((cm) => Object.keys(cm.data ?? {})),
      ...workloads(manifests)
        .filter((w) => component(w) !== 'search-attributes')
        .flatMap((w) => containersOf(w).flatMap(envOf).map((e) => e.name as string)),
    ];
    expect(names.filter((n) => !read.has(n) && !notConfig.has(n))).toEqual([]);
  });
});

describe('secrets', () => {
  const SENTINELS = {
    'database.password': 'sentinel-db-password',
    's3.secretKey': 'sentinel-s3-secret',
    'temporal.apiKey.value': 'sentinel-temporal-api-key',
    'ai.openaiApiKey': 'sentinel-openai-key',
    'appSecrets.jwtSecret': 'sentinel-jwt-secret-of-at-least-32-bytes',
    'appSecrets.storageMasterKeys': 'sentinel:c2VudGluZWwtc3RvcmFnZS1tYXN0ZXIta2V5LTMyYnk=',
    'appSecrets.webhookSecretKey': 'sentinel-webhook-key-of-at-least-32-bytes',
  };
  const sets = Object.entries(SENTINELS).flatMap(([k, v]) => ['--set', `${k}=${v}`]);

  test('secret values reach only Secrets, never ConfigMaps, plain env values or annotations', () => {
    const manifests = render([EXAMPLES[0]!], sets);
    const secretText = byKind(manifests, 'Secret')
      .flatMap((s) => Object.values((s.data ?? {}) as Record<string, string>))
      .map((b64) => Buffer.from(b64, 'base64').toString('utf8'))
      .join('\n');
    const everythingElse = JSON.stringify(manifests.filter((m) => m.kind !== 'Secret'));
    for (const value of Object.values(SENTINELS)) {
      expect(secretText).toContain(value);
      expect(everythingElse).not.toContain(value);
    }
  });

  test('existing-secret mode renders no Secret and points every credential at the existing ones', () => {
    const manifests = render([EXAMPLES[1]!]);
    expect(byKind(manifests, 'Secret')).toEqual([]);
    const api = byKind(manifests, 'Deployment').find((d) => component(d) === 'api')!;
    const refs = Object.fromEntries(
      envOf(api.spec.template.spec.containers[0]).filter((e) => e.valueFrom).map((e) => [e.name, e.valueFrom.secretKeyRef.name]),
    );
    expect(refs).toMatchObject({
      DATABASE_URL: 'mediaflow-credentials',
      S3_ACCESS_KEY: 'mediaflow-credentials',
      S3_SECRET_KEY: 'mediaflow-credentials',
      JWT_SECRET: 'mediaflow-credentials',
      STORAGE_MASTER_KEYS: 'mediaflow-credentials',
      TEMPORAL_CODEC_KEYS: 'mediaflow-credentials',
      WEBHOOK_SECRET_KEY: 'mediaflow-credentials',
      DOWNLOAD_LINK_SECRETS: 'mediaflow-credentials',
    });
  });

  test('production without the required secrets refuses to render and names them', () => {
    const r = template([EXAMPLES[0]!], ['--set', 'appSecrets.storageMasterKeys=']);
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain('appSecrets.storageMasterKeys is required in production');
  });

  test('a secret-looking name in config.extraEnv is rejected', () => {
    const r = template([EXAMPLES[0]!], ['--set', 'config.extraEnv.SMTP_PASSWORD=hunter2']);
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(/values don't meet the specifications of the schema|schema/i);
  });

  test('Temporal Cloud: the API key comes from its Secret and TLS is on', () => {
    const manifests = render([EXAMPLES[2]!]);
    for (const w of workloads(manifests).filter((w) => component(w) !== 'migrations')) {
      const env = Object.fromEntries(containersOf(w)[0]!.env.map((e: Json) => [e.name, e]));
      expect(env.TEMPORAL_API_KEY?.valueFrom?.secretKeyRef).toEqual({ name: 'temporal-cloud', key: 'TEMPORAL_API_KEY' });
      expect(env.TEMPORAL_TLS?.value).toBe('true');
    }
  });
});

describe('values.schema.json and required values', () => {
  test.each([
    ['a negative replica count', ['--set', 'api.replicas=-1'], /api\.replicas|replicas/],
    ['a wrong type', ['--set', 'api.replicas=two'], /replicas/],
    ['an unknown key (typo)', ['--set', 'api.replicaz=2'], /replicaz/],
    ['a root container', ['--set', 'securityContext.runAsNonRoot=false'], /runAsNonRoot/],
    ['a malformed Temporal address', ['--set', 'temporal.address=http://temporal'], /address/],
    ['half a client certificate pair', ['--set', 'temporal.tls.certKey=tls.crt', '--set', 'temporal.tls.keyKey='], /keyKey/],
    ['a storage keyring entry without an id', ['--set', 'appSecrets.storageMasterKeys=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA='], /storageMasterKeys/],
    ['a short JWT secret', ['--set', 'appSecrets.jwtSecret=short'], /jwtSecret/],
  ])('rejects %s', (_what, args, message) => {
    const r = template([EXAMPLES[0]!], args);
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(/schema/i);
    expect(r.stderr).toMatch(message);
  });

  test('trustedProxyCount: explicit numbers win, anything but a small number is refused', () => {
    const count = (extra: string[]) =>
      byKind(render([EXAMPLES[0]!], extra), 'ConfigMap').map((cm) => cm.data?.TRUSTED_PROXY_COUNT).find((v) => v !== undefined);
    expect(count(['--set', 'config.trustedProxyCount=2'])).toBe('2');
    expect(count(['--set', 'config.trustedProxyCount=0'])).toBe('0');
    expect(count(['--set', 'api.ingress.enabled=false'])).toBe('0');
    for (const bad of ['config.trustedProxyCount=true', 'config.trustProxy=true', 'config.trustedProxyCount=-1']) expect([bad, template([EXAMPLES[0]!], ['--set', bad]).status]).not.toEqual([bad, 0]);
    expect(template([EXAMPLES[0]!], ['--set', 'config.platformAdminEmails=ops@example.com']).status).not.toBe(0);
    expect(template([EXAMPLES[0]!], ['--set', 'config.platformAdminUserIds=ops@example.com']).status).not.toBe(0);
    expect(template([EXAMPLES[0]!], ['--set', 'api.opsPort=3000']).status).not.toBe(0);
  });

  test('the same values file with valid overrides renders (the rejections above are about the values)', () => {
    expect(template([EXAMPLES[0]!], ['--set', 'api.replicas=3']).status).toBe(0);
  });

  test('missing connection settings fail with a message that names them', () => {
    const r = template([], []);
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(/temporal\.address|database|s3\./);
  });

  test('queues that leave a routed queue unserved are refused', () => {
    const r = template([EXAMPLES[0]!], ['--set', 'worker.queues[2].taskQueues={elsewhere}']);
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain('no worker polls "mediaflow-low"');
  });
});

describe('search-attribute hook script against the test Temporal server', () => {
  const temporalBin = process.env.TEMPORAL_BIN || path.join(path.dirname(HELM), 'temporal');
  const address = process.env.TEMPORAL_ADDRESS ?? '127.0.0.1:7233';

  function jobScriptAndEnv(): { script: string; env: Record<string, string> } {
    const job = byKind(render([EXAMPLES[0]!]), 'Job').find((j) => component(j) === 'search-attributes')!;
    const [c] = containersOf(job);
    expect(c!.command).toEqual(['/bin/sh', '-c']);
    const env = Object.fromEntries((c!.env as Json[]).filter((e) => typeof e.value === 'string').map((e) => [e.name, e.value]));
    return { script: c!.args[0] as string, env };
  }

  function temporal(args: string[]) {
    return spawnSync(temporalBin, [...args, '--address', address], { encoding: 'utf8' });
  }

  function runScript(namespace: string) {
    const { script, env } = jobScriptAndEnv();
    return spawnSync('sh', ['-c', script], {
      encoding: 'utf8',
      env: {
        ...env,
        PATH: `${path.dirname(temporalBin)}:${process.env.PATH}`,
        HOME: process.env.HOME ?? '/tmp',
        TEMPORAL_ADDRESS: address,
        TEMPORAL_NAMESPACE: namespace,
        REGISTER_ATTEMPTS: '2',
        REGISTER_RETRY_SECONDS: '1',
      },
    });
  }

  function customAttributes(namespace: string): Record<string, string> {
    const r = temporal(['operator', 'search-attribute', 'list', '--namespace', namespace, '-o', 'json']);
    expect(r.status).toBe(0);
    return JSON.parse(r.stdout).customAttributes ?? {};
  }

  function createNamespace(): string {
    const namespace = `helm-sa-${process.pid}-${Date.now()}`;
    expect(temporal(['operator', 'namespace', 'create', '--namespace', namespace]).status).toBe(0);
    return namespace;
  }

  test('registers the four attributes with their types, and a second run changes nothing', () => {
    const namespace = createNamespace();
    const first = runScript(namespace);
    expect([first.status, first.stderr]).toEqual([0, '']);
    const expected = {
      MediaflowOrganizationId: 'INDEXED_VALUE_TYPE_KEYWORD',
      MediaflowJobStatus: 'INDEXED_VALUE_TYPE_KEYWORD',
      MediaflowActionIds: 'INDEXED_VALUE_TYPE_KEYWORD_LIST',
      MediaflowMediaType: 'INDEXED_VALUE_TYPE_KEYWORD',
    };
    expect(customAttributes(namespace)).toEqual(expected);
    const second = runScript(namespace);
    expect(second.status).toBe(0);
    expect(customAttributes(namespace)).toEqual(expected);
  });

  test('an attribute registered with another type fails the hook', () => {
    const namespace = createNamespace();
    const pre = temporal(['operator', 'search-attribute', 'create', '--namespace', namespace, '--name', 'MediaflowJobStatus', '--type', 'Int']);
    expect(pre.status).toBe(0);
    const r = runScript(namespace);
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain('MediaflowJobStatus');
  });
});
