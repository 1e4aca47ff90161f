// The production topology's files, checked without Docker: docker-compose.yml against the
// parts of the Compose specification it uses and against DESIGN.md's list of services, the
// Switchyard config each container would load, the Temporal setup scripts against the names in
// contracts/, and the Dockerfile's shape. Where `docker compose` exists, it validates the file
// too; where Docker can build, a separate opt-in step builds the image (docs/deploy.md).
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import YAML from 'yaml';
import { z } from 'zod';
import { assertSafeBind } from '../api/auth.js';
import { loadConfig } from '../config/load.js';
import { SWITCHYARD_SEARCH_ATTRIBUTE_NAMES } from '../supervisor/temporal-dev-server.js';
import { eventsUrl } from '../worker/events-url.js';
import { WORKER_MALLOC_ENV } from '../supervisor/worker-malloc.js';

const ROOT = path.resolve(import.meta.dirname, '..');
const read = (file: string) => fs.readFileSync(path.join(ROOT, file), 'utf8');

/** DESIGN.md, "Processes": Temporal server with PostgreSQL, Temporal UI, api and worker. */
const DESIGN_SERVICES = ['postgresql', 'temporal', 'temporal-ui', 'switchyard-api', 'switchyard-worker'];

// The subset of the Compose specification (compose-spec.io) this file may use. Strict objects:
// a misspelt key fails here instead of being ignored by Docker.
const Duration = z.string().regex(/^(\d+(\.\d+)?(ns|us|ms|s|m|h))+$/, 'a Compose duration such as 5s or 1m30s');
const StringOrList = z.union([z.string(), z.array(z.string()).min(1)]);
const Healthcheck = z.strictObject({
  test: z.union([z.tuple([z.literal('CMD')], z.string()), z.tuple([z.literal('CMD-SHELL'), z.string()]), z.string()]),
  interval: Duration.optional(),
  timeout: Duration.optional(),
  retries: z.number().int().positive().optional(),
  start_period: Duration.optional(),
});
const Service = z.strictObject({
  image: z.string().optional(),
  build: z.union([z.string(), z.strictObject({ context: z.string(), dockerfile: z.string().optional() })]).optional(),
  command: StringOrList.optional(),
  entrypoint: StringOrList.optional(),
  restart: z.string().regex(/^(no|always|unless-stopped|on-failure(:\d+)?)$/).optional(),
  environment: z.record(z.string(), z.union([z.string(), z.number(), z.boolean()])).optional(),
  env_file: z.array(z.string()).optional(),
  volumes: z.array(z.string().regex(/^[^:]+:\/[^:]*(:(ro|rw))?$/, 'source:/target[:ro]')).optional(),
  ports: z.array(z.string().regex(/^(127\.0\.0\.1:)?\d+:\d+$/, 'host:container, bound to 127.0.0.1 when a host address is given')).optional(),
  depends_on: z.record(z.string(), z.strictObject({ condition: z.enum(['service_started', 'service_healthy', 'service_completed_successfully']) })).optional(),
  healthcheck: Healthcheck.optional(),
  stop_grace_period: Duration.optional(),
  networks: z.array(z.string()).optional(),
});
const ComposeFile = z.strictObject({
  name: z.string().regex(/^[a-z0-9][a-z0-9_-]*$/),
  services: z.record(z.string().regex(/^[a-zA-Z0-9._-]+$/), Service),
  volumes: z.record(z.string(), z.null()).optional(),
  networks: z.record(z.string(), z.null()).optional(),
});
type Compose = z.infer<typeof ComposeFile>;

function loadCompose(): Compose {
  const document = YAML.parse(read('docker-compose.yml'), { merge: true }) as Record<string, unknown>;
  // Extension fields (x-*) are for anchors only; Compose ignores them.
  const withoutExtensions = Object.fromEntries(Object.entries(document).filter(([key]) => !key.startsWith('x-')));
  return ComposeFile.parse(withoutExtensions);
}

/** Compose interpolation of `${VAR:-default}` / `${VAR}` / `$$` with an empty environment (defaults win). */
function interpolate(value: string, env: Record<string, string> = {}): string {
  return value.replace(/\$\$|\$\{([A-Z0-9_]+)(?::?-([^}]*))?\}/g, (match, name: string | undefined, fallback: string | undefined) => {
    if (match === '$$') return '$';
    const found = name === undefined ? undefined : env[name];
    if (found !== undefined && found !== '') return found;
    if (fallback !== undefined) return fallback;
    throw new Error(`${match} has no default`);
  });
}

/** What a service's process sees: its env_file (the committed .example, with dummy secrets) and environment. */
function containerEnv(service: z.infer<typeof Service>, home: string): Record<string, string> {
  const env: Record<string, string> = { HOME: home, SWITCHYARD_HOME: home };
  for (const file of service.env_file ?? []) {
    for (const line of read(`${file}.example`).split('\n')) {
      const match = /^([A-Z0-9_]+)=(.*)$/.exec(line);
      if (match) env[match[1]!] = match[2] || `dummy-${match[1]!.toLowerCase()}`;
    }
  }
  for (const [key, value] of Object.entries(service.environment ?? {})) env[key] = interpolate(String(value));
  return env;
}

/** The Switchyard config a service's container loads: $SWITCHYARD_HOME/config.yaml from its volume, then its env. */
function containerConfig(service: z.infer<typeof Service>, env?: Record<string, string>) {
  const home = fs.mkdtempSync(path.join(os.tmpdir(), 'switchyard-compose-'));
  try {
    const configMount = (service.volumes ?? []).find((volume) => volume.split(':')[1] === '/var/lib/switchyard/config.yaml');
    assert.ok(configMount, 'the config file is mounted at $SWITCHYARD_HOME/config.yaml');
    fs.copyFileSync(path.join(ROOT, configMount.split(':')[0]!), path.join(home, 'config.yaml'));
    const cwd = path.join(home, 'workspace');
    fs.mkdirSync(cwd);
    return loadConfig({ cwd, env: env ?? containerEnv(service, home) }).config;
  } finally {
    fs.rmSync(home, { recursive: true, force: true });
  }
}

describe('docker-compose.yml', () => {
  const compose = loadCompose();
  const services = compose.services;

  test('follows the Compose specification subset and names every service DESIGN.md lists', () => {
    for (const name of DESIGN_SERVICES) assert.ok(services[name], `service ${name}`);
  });

  test('every service has a pinned image or is built from the repository', () => {
    for (const [name, service] of Object.entries(services)) {
      assert.ok(service.image || service.build, `${name}: image or build`);
      if (service.build) {
        const build = typeof service.build === 'string' ? { context: service.build } : service.build;
        assert.ok(fs.existsSync(path.join(ROOT, build.context, build.dockerfile ?? 'Dockerfile')), `${name}: its Dockerfile exists`);
      } else {
        const image = interpolate(service.image!);
        assert.match(image, /^[a-z0-9./-]+:[A-Za-z0-9._-]+$/, `${name}: image with a tag`);
        assert.doesNotMatch(image, /:latest$/, `${name}: not :latest`);
      }
    }
  });

  test('long-running services have health checks; one-shots are awaited to completion', () => {
    const oneShots = new Set(Object.entries(services).filter(([, s]) => s.restart?.startsWith('on-failure')).map(([name]) => name));
    assert.deepEqual([...oneShots].sort(), ['temporal-schema', 'temporal-setup']);
    for (const [name, service] of Object.entries(services)) {
      if (!oneShots.has(name)) assert.ok(service.healthcheck, `${name}: healthcheck`);
      for (const [dependency, { condition }] of Object.entries(service.depends_on ?? {})) {
        assert.ok(services[dependency], `${name} depends on ${dependency}, which exists`);
        const expected = oneShots.has(dependency) ? 'service_completed_successfully' : 'service_healthy';
        assert.equal(condition, expected, `${name} → ${dependency}`);
        if (expected === 'service_healthy') assert.ok(services[dependency]!.healthcheck, `${dependency} has the healthcheck ${name} waits for`);
      }
    }
  });

  test('start order: PostgreSQL, schema, Temporal, namespace and search attributes, then Switchyard', () => {
    const order: string[] = [];
    const visit = (name: string, seen: string[]) => {
      assert.ok(!seen.includes(name), `no dependency cycle through ${[...seen, name].join(' → ')}`);
      for (const dependency of Object.keys(services[name]!.depends_on ?? {})) visit(dependency, [...seen, name]);
      if (!order.includes(name)) order.push(name);
    };
    for (const name of Object.keys(services)) visit(name, []);
    const before = (a: string, b: string) => assert.ok(order.indexOf(a) < order.indexOf(b), `${a} before ${b}`);
    before('postgresql', 'temporal-schema');
    before('temporal-schema', 'temporal');
    before('temporal', 'temporal-setup');
    before('temporal-setup', 'switchyard-api');
    before('temporal-setup', 'switchyard-worker');
  });

  test('volumes: named ones are declared, bind mounts exist in the repository, state is persistent', () => {
    for (const [name, service] of Object.entries(services)) {
      for (const volume of service.volumes ?? []) {
        const source = volume.split(':')[0]!;
        if (source.startsWith('.')) assert.ok(fs.existsSync(path.join(ROOT, source)), `${name}: ${source} exists`);
        else assert.ok(compose.volumes && source in compose.volumes, `${name}: volume ${source} is declared`);
      }
    }
    assert.ok(services.postgresql!.volumes?.some((volume) => volume.endsWith(':/var/lib/postgresql/data')), 'PostgreSQL data on a volume');
    assert.ok(services['switchyard-worker']!.volumes?.some((volume) => volume.endsWith(':/workspace')), "the agents' workspace on a volume");
  });

  test('no secret is written inline: they come from env files, whose examples are committed and whose copies are ignored', () => {
    const secretLike = /(PASSWORD|PWD|TOKEN|SECRET|API_KEY|APIKEY|PRIVATE)/i;
    for (const [name, service] of Object.entries(services)) {
      for (const key of Object.keys(service.environment ?? {})) assert.doesNotMatch(key, secretLike, `${name}: ${key} belongs in an env_file`);
      for (const file of service.env_file ?? []) {
        assert.ok(fs.existsSync(path.join(ROOT, `${file}.example`)), `${file}.example is committed`);
        const ignored = spawnSync('git', ['check-ignore', '-q', file], { cwd: ROOT });
        assert.equal(ignored.status, 0, `${file} is git-ignored`);
      }
    }
    assert.doesNotMatch(read('deploy/switchyard.yaml'), /(token|secret|apiKey|password)\s*:/i, 'the mounted config holds no secret');
  });

  test('published ports are bound to loopback', () => {
    for (const [name, service] of Object.entries(services)) {
      for (const port of service.ports ?? []) assert.match(port, /^127\.0\.0\.1:/, `${name}: ${port}`);
    }
  });

  test('the API and the worker load a valid config: API bound for the network with a token, events reach the API, one namespace', () => {
    const api = containerConfig(services['switchyard-api']!);
    const worker = containerConfig(services['switchyard-worker']!);
    assert.equal(api.gateway.bind, '0.0.0.0');
    assert.ok(api.gateway.auth.token, 'SWITCHYARD_TOKEN from the env file is the API token');
    assert.doesNotThrow(() => assertSafeBind(api.gateway.bind, api.gateway.auth.token));
    // Without the env file's token the API refuses to bind to the network (secure by default).
    const withoutToken = containerEnv(services['switchyard-api']!, os.tmpdir());
    delete withoutToken.SWITCHYARD_TOKEN;
    assert.throws(() => assertSafeBind(api.gateway.bind, containerConfig(services['switchyard-api']!, withoutToken).gateway.auth.token));
    assert.equal(api.temporal.address, 'temporal:7233');
    assert.equal(worker.temporal.address, api.temporal.address);
    assert.equal(worker.temporal.namespace, api.temporal.namespace);
    assert.equal(worker.temporal.namespace, interpolate(String(services['temporal-setup']!.environment!.SWITCHYARD_NAMESPACE)));
    assert.equal(eventsUrl(worker), `http://switchyard-api:${api.gateway.port}/internal/events`);
    assert.equal(worker.agentDefaults.cwd, '/workspace');
    // The worker container runs worker/main without the supervisor: its malloc tuning is here.
    for (const [key, value] of Object.entries(WORKER_MALLOC_ENV)) assert.equal(services['switchyard-worker']!.environment![key], value, key);
    for (const key of Object.keys(WORKER_MALLOC_ENV)) assert.equal(services['switchyard-api']!.environment![key], undefined, key);
  });

  test('the setup script registers exactly the search attributes Switchyard uses, as Keyword', () => {
    const script = read('deploy/temporal/setup-namespace.sh');
    const listed = /^SEARCH_ATTRIBUTES="([^"]*)"$/m.exec(script)?.[1]?.split(/\s+/) ?? [];
    assert.deepEqual([...listed].sort(), [...SWITCHYARD_SEARCH_ATTRIBUTE_NAMES].sort());
    assert.match(script, /--type Keyword/);
    for (const name of ['temporal-schema', 'temporal-setup']) {
      const command = [services[name]!.command].flat().join(' ');
      const file = command.replace('/setup/', 'deploy/temporal/');
      assert.ok(fs.existsSync(path.join(ROOT, file)), `${name} runs ${file}`);
    }
  });

  test('`docker compose config` accepts it, where Docker Compose is installed', (t) => {
    const probe = spawnSync('docker', ['compose', 'version'], { encoding: 'utf8' });
    if (probe.status !== 0) {
      t.skip('no `docker compose` here (docs/deploy.md); the checks above stand in for it');
      return;
    }
    // The env files are git-ignored copies: validate with the examples in their place.
    const envFiles = [...new Set(Object.values(services).flatMap((service) => service.env_file ?? []))];
    const created = envFiles.map((file) => path.join(ROOT, file)).filter((file) => !fs.existsSync(file));
    for (const file of created) fs.copyFileSync(`${file}.example`, file);
    try {
      execFileSync('docker', ['compose', '-f', path.join(ROOT, 'docker-compose.yml'), 'config', '--quiet'], { cwd: ROOT, stdio: 'pipe' });
    } finally {
      for (const file of created) fs.rmSync(file, { force: true });
    }
  });
});

describe('Dockerfile', () => {
  const dockerfile = read('Dockerfile');
  const instructions = dockerfile
    .replace(/\\\n/g, ' ')
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line && !line.startsWith('#'));
  const args = new Map(instructions.filter((line) => line.startsWith('ARG ') && line.includes('=')).map((line) => line.slice(4).split('=') as [string, string]));
  const finalStage = instructions.slice(instructions.findLastIndex((line) => line.startsWith('FROM ')));

  test('base images are Debian bookworm slim at a pinned Node release that package.json allows', () => {
    const froms = instructions.filter((line) => line.startsWith('FROM '));
    assert.ok(froms.length >= 2, 'multi-stage');
    for (const from of froms) assert.match(from, /^FROM node:\$\{NODE_VERSION\}-bookworm-slim AS \w+$/);
    const nodeVersion = args.get('NODE_VERSION') ?? '';
    assert.match(nodeVersion, /^\d+\.\d+\.\d+$/, 'NODE_VERSION is a full release');
    const [major, minor] = nodeVersion.split('.').map(Number);
    const engines = /^>=(\d+)\.(\d+)$/.exec((JSON.parse(read('package.json')) as { engines: { node: string } }).engines.node)!;
    assert.ok(major! > Number(engines[1]) || (major === Number(engines[1]) && minor! >= Number(engines[2])), `${nodeVersion} satisfies engines`);
  });

  test('installs the Claude CLI at the version the suite tests', () => {
    const pkg = JSON.parse(read('package.json')) as { devDependencies: Record<string, string> };
    assert.equal(args.get('CLAUDE_CODE_VERSION'), pkg.devDependencies['@anthropic-ai/claude-code']);
    assert.ok(finalStage.some((line) => line.includes('@anthropic-ai/claude-code@${CLAUDE_CODE_VERSION}')));
  });

  test('runs as a non-root user, with a HEALTHCHECK and an init process', () => {
    const user = finalStage.filter((line) => line.startsWith('USER ')).at(-1);
    assert.ok(user, 'USER in the final stage');
    assert.doesNotMatch(user, /^USER (root|0)(:|$)/);
    assert.ok(finalStage.some((line) => line.startsWith('HEALTHCHECK ')), 'HEALTHCHECK');
    assert.ok(finalStage.some((line) => line.startsWith('ENTRYPOINT ["/usr/bin/tini"')), 'tini as PID 1');
  });

  test('copies every source folder the build compiles, and the entry points it names are built', () => {
    const build = JSON.parse(read('tsconfig.build.json')) as { include: string[] };
    const copied = instructions.filter((line) => /^COPY [\w-]+ \.\/[\w-]+$/.test(line)).map((line) => line.split(' ')[1]);
    for (const folder of build.include) assert.ok(copied.includes(folder), `COPY ${folder}`);
    const entries = new Set([...dockerfile.matchAll(/\/app\/dist\/([\w/-]+)\.js/g)].map((match) => match[1]!));
    for (const service of Object.values(loadCompose().services)) {
      for (const match of [service.command, service.healthcheck?.test].flat().join(' ').matchAll(/\/app\/dist\/([\w/-]+)\.js/g)) entries.add(match[1]!);
    }
    assert.ok(entries.size >= 3);
    for (const entry of entries) assert.ok(fs.existsSync(path.join(ROOT, `${entry}.ts`)), `${entry}.ts is compiled to dist/${entry}.js`);
  });

  test('.dockerignore keeps node_modules, git, secrets and local state out of the context', () => {
    const ignored = read('.dockerignore').split('\n').map((line) => line.trim());
    for (const entry of ['node_modules', '.git', '.tools', 'dist', '*.env', '.switchyard']) assert.ok(ignored.includes(entry), entry);
  });
});
