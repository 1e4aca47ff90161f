// Finds (or builds) the `temporal` CLI that runs the embedded dev server.
//
// Order: $SWITCHYARD_TEMPORAL_BIN, `temporal` on PATH, <root>/.tools/bin/temporal, a build
// with Go (`go install github.com/temporalio/cli/cmd/temporal@v1.5.1`, offline-friendly through
// the Go module proxy), then, when the caller allows it, the Temporal SDK's own download
// (needs internet). Later CLI tags carry a `replace` directive that `go install` refuses,
// hence the pinned version.
import { spawn } from 'node:child_process';
import { constants as fsConstants, existsSync, readFileSync } from 'node:fs';
import { access, mkdir, open, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { processRunning } from './processes.js';

export type TemporalBinary =
  | { kind: 'path'; path: string; via: 'env' | 'path' | 'tools' | 'go-install' }
  | { kind: 'sdk-download' };

export class TemporalBinaryError extends Error {
  override name = 'TemporalBinaryError';
}

export const TEMPORAL_CLI_VERSION = 'v1.5.1';
export const TEMPORAL_CLI_PACKAGE = 'github.com/temporalio/cli/cmd/temporal';

const BINARY_NAME = process.platform === 'win32' ? 'temporal.exe' : 'temporal';
const GO_NAME = process.platform === 'win32' ? 'go.exe' : 'go';
const DEFAULT_GO_LOCATIONS = ['/usr/local/go/bin/go'];

export type ResolveTemporalBinaryOptions = {
  env?: NodeJS.ProcessEnv;
  projectRoot?: string;
  onProgress?: (line: string) => void;
  allowSdkDownload?: boolean;
  /** Well-known Go locations checked after PATH and before $GOROOT/bin (default /usr/local/go/bin/go). Tests pass []. */
  goLocations?: string[];
  /** How often a "still building… Ns" line is printed (default 15 s). */
  progressIntervalMs?: number;
};

let cachedRoot: string | undefined;

/** The repository root: the nearest directory above this module holding Switchyard's package.json. */
export function projectRoot(): string {
  if (cachedRoot) return cachedRoot;
  const here = path.dirname(fileURLToPath(import.meta.url));
  let dir = here;
  for (;;) {
    const manifest = path.join(dir, 'package.json');
    if (existsSync(manifest)) {
      try {
        const pkg = JSON.parse(readFileSync(manifest, 'utf8')) as { name?: string };
        if (pkg.name === 'switchyard') return (cachedRoot = dir);
      } catch {
        // not ours; keep looking
      }
    }
    const parent = path.dirname(dir);
    if (parent === dir) break;
    dir = parent;
  }
  // supervisor/ sits right under the root (or under dist/ when built).
  const parent = path.dirname(here);
  return (cachedRoot = path.basename(parent) === 'dist' ? path.dirname(parent) : parent);
}

/**
 * Steps 1 to 3 of resolveTemporalBinary: a binary that is already there, without building or
 * downloading anything (`switchyard doctor` asks this). Undefined when none is found.
 */
export async function findTemporalBinary(opts: Pick<ResolveTemporalBinaryOptions, 'env' | 'projectRoot'> = {}): Promise<Extract<TemporalBinary, { kind: 'path' }> | undefined> {
  const env = opts.env ?? process.env;
  const root = opts.projectRoot ?? projectRoot();

  // 1. An explicit binary must work; silently falling back would hide a typo.
  const explicit = env.SWITCHYARD_TEMPORAL_BIN;
  if (explicit !== undefined && explicit !== '') {
    const problem = await executableProblem(explicit);
    if (problem) throw new TemporalBinaryError(`SWITCHYARD_TEMPORAL_BIN=${explicit} ${problem}; point it at the temporal CLI binary, or unset it.`);
    return { kind: 'path', path: path.resolve(explicit), via: 'env' };
  }

  // 2. PATH.
  const onPath = await findOnPath(BINARY_NAME, env.PATH);
  if (onPath) return { kind: 'path', path: onPath, via: 'path' };

  // 3. A binary built earlier into the project.
  const tools = toolsBinary(root);
  if (await isExecutableFile(tools)) return { kind: 'path', path: tools, via: 'tools' };
  return undefined;
}

export async function resolveTemporalBinary(opts: ResolveTemporalBinaryOptions = {}): Promise<TemporalBinary> {
  const env = opts.env ?? process.env;
  const root = opts.projectRoot ?? projectRoot();
  const progress = opts.onProgress ?? ((line: string) => process.stderr.write(`${line}\n`));
  const tools = toolsBinary(root);

  // 1-3. SWITCHYARD_TEMPORAL_BIN, PATH, .tools/bin.
  const found = await findTemporalBinary({ env, projectRoot: root });
  if (found) return found;

  // 4. Build it with Go.
  const go = await findGo(env, opts.goLocations ?? DEFAULT_GO_LOCATIONS);
  if (go) {
    const built = await buildWithGo({ go, root, env, progress, intervalMs: opts.progressIntervalMs ?? 15_000 });
    return { kind: 'path', path: built.path, via: built.via };
  }

  // 5. Let the SDK download the dev server (online only).
  if (opts.allowSdkDownload) return { kind: 'sdk-download' };

  throw new TemporalBinaryError(
    [
      'Cannot find the temporal CLI (needed for the embedded Temporal dev server). Options:',
      '  - set SWITCHYARD_TEMPORAL_BIN=/path/to/temporal',
      '  - put `temporal` on PATH (https://docs.temporal.io/cli)',
      `  - install Go (https://go.dev/dl) and rerun: Switchyard builds temporal ${TEMPORAL_CLI_VERSION} into ${tools}`,
      '  - connect to the internet and rerun: the Temporal SDK downloads the dev server itself',
      '  - or set temporal.address to host:port of an existing Temporal server',
    ].join('\n'),
  );
}

export function toolsBinary(root: string): string {
  return path.join(root, '.tools', 'bin', BINARY_NAME);
}

async function executableProblem(file: string): Promise<string | undefined> {
  let info;
  try {
    info = await stat(file);
  } catch {
    return 'does not exist';
  }
  if (!info.isFile()) return 'is not a file';
  try {
    await access(file, fsConstants.X_OK);
  } catch {
    return 'is not executable';
  }
  return undefined;
}

async function isExecutableFile(file: string): Promise<boolean> {
  return (await executableProblem(file)) === undefined;
}

async function findOnPath(name: string, pathVar: string | undefined): Promise<string | undefined> {
  if (!pathVar) return undefined;
  for (const dir of pathVar.split(path.delimiter)) {
    if (!dir) continue;
    const candidate = path.resolve(dir, name);
    if (await isExecutableFile(candidate)) return candidate;
  }
  return undefined;
}

async function findGo(env: NodeJS.ProcessEnv, wellKnown: string[]): Promise<string | undefined> {
  const onPath = await findOnPath(GO_NAME, env.PATH);
  if (onPath) return onPath;
  for (const candidate of wellKnown) if (await isExecutableFile(candidate)) return candidate;
  if (env.GOROOT) {
    const candidate = path.join(env.GOROOT, 'bin', GO_NAME);
    if (await isExecutableFile(candidate)) return candidate;
  }
  return undefined;
}


const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * Takes `.tools/temporal-build.lock` (created with `wx`, holding our pid). While another live
 * process holds it, waits; a lock whose pid is gone is taken over. Returns a release function.
 */
async function acquireBuildLock(lockFile: string, progress: (line: string) => void): Promise<() => Promise<void>> {
  let announced = false;
  for (;;) {
    try {
      const handle = await open(lockFile, 'wx');
      await handle.writeFile(`${process.pid}\n`);
      await handle.close();
      return async () => {
        await rm(lockFile, { force: true });
      };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    const holder = Number.parseInt((await readFile(lockFile, 'utf8').catch(() => '')).trim(), 10);
    if (!processRunning(holder)) {
      // Stale (or being written right now: give a writer a moment before taking over).
      await sleep(200);
      const again = Number.parseInt((await readFile(lockFile, 'utf8').catch(() => '')).trim(), 10);
      if (!processRunning(again)) await rm(lockFile, { force: true });
      continue;
    }
    if (!announced) {
      progress(`another process (pid ${holder}) is building temporal ${TEMPORAL_CLI_VERSION}; waiting for it…`);
      announced = true;
    }
    await sleep(1_000);
  }
}

async function buildWithGo(args: {
  go: string;
  root: string;
  env: NodeJS.ProcessEnv;
  progress: (line: string) => void;
  intervalMs: number;
}): Promise<{ path: string; via: 'tools' | 'go-install' }> {
  const { go, root, env, progress } = args;
  const toolsDir = path.join(root, '.tools');
  const binDir = path.join(toolsDir, 'bin');
  const target = toolsBinary(root);
  await mkdir(binDir, { recursive: true });
  const release = await acquireBuildLock(path.join(toolsDir, 'temporal-build.lock'), progress);
  try {
    // Someone else may have finished the build while we waited for the lock.
    if (await isExecutableFile(target)) return { path: target, via: 'tools' };

    // Build into a private GOBIN and rename into place, so nobody ever sees a half-written binary.
    const stagingBin = path.join(toolsDir, `build-${process.pid}`);
    await rm(stagingBin, { recursive: true, force: true });
    await mkdir(stagingBin, { recursive: true });
    const logFile = path.join(toolsDir, 'temporal-build.log');
    progress(`building temporal ${TEMPORAL_CLI_VERSION} with go (first run only, takes a few minutes)…`);
    const started = Date.now();
    const timer = setInterval(() => {
      progress(`still building… ${Math.round((Date.now() - started) / 1000)}s`);
    }, args.intervalMs);
    let output = '';
    try {
      const code = await new Promise<number | null>((resolve, reject) => {
        const child = spawn(go, ['install', `${TEMPORAL_CLI_PACKAGE}@${TEMPORAL_CLI_VERSION}`], {
          env: {
            ...env,
            GOBIN: stagingBin,
            PATH: [path.dirname(go), env.PATH].filter(Boolean).join(path.delimiter),
          },
          stdio: ['ignore', 'pipe', 'pipe'],
        });
        const collect = (chunk: Buffer) => {
          output += chunk.toString('utf8');
          if (output.length > 200_000) output = output.slice(-100_000);
        };
        child.stdout.on('data', collect);
        child.stderr.on('data', collect);
        child.on('error', reject);
        child.on('close', (exitCode) => resolve(exitCode));
      });
      await writeFile(logFile, `${output}\nexit ${code}\n`).catch(() => undefined);
      const built = path.join(stagingBin, BINARY_NAME);
      if (code !== 0 || !(await isExecutableFile(built))) {
        const tail = output.trim().split('\n').slice(-15).join('\n');
        throw new TemporalBinaryError(
          `go install ${TEMPORAL_CLI_PACKAGE}@${TEMPORAL_CLI_VERSION} failed (exit ${code}); full log: ${logFile}\n${tail}\n` +
            'Alternatives: set SWITCHYARD_TEMPORAL_BIN, put temporal on PATH, or set temporal.address to an existing server.',
        );
      }
      await rename(built, target);
      progress(`built temporal ${TEMPORAL_CLI_VERSION} in ${Math.round((Date.now() - started) / 1000)}s: ${target}`);
      return { path: target, via: 'go-install' };
    } catch (err) {
      if (err instanceof TemporalBinaryError) throw err;
      throw new TemporalBinaryError(`could not run ${go}: ${(err as Error).message}`);
    } finally {
      clearInterval(timer);
      await rm(stagingBin, { recursive: true, force: true });
    }
  } finally {
    await release();
  }
}
