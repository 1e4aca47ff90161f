import assert from 'node:assert/strict';
import { chmod, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { projectRoot, resolveTemporalBinary, TemporalBinaryError, TEMPORAL_CLI_VERSION } from '../supervisor/temporal-binary.js';

async function fakeBinary(dir: string, name = 'temporal'): Promise<string> {
  await mkdir(dir, { recursive: true });
  const file = path.join(dir, name);
  await writeFile(file, '#!/bin/sh\necho fake\n');
  await chmod(file, 0o755);
  return file;
}

describe('resolveTemporalBinary', () => {
  let tmp: string;
  let root: string; // a project root with nothing in .tools
  const quiet = () => undefined;

  before(async () => {
    tmp = await mkdtemp(path.join(os.tmpdir(), 'switchyard-tb-'));
    root = path.join(tmp, 'project');
    await mkdir(root, { recursive: true });
  });
  after(async () => {
    await rm(tmp, { recursive: true, force: true });
  });

  it('finds the repository root from its own location', () => {
    assert.ok(existsSync(path.join(projectRoot(), 'package.json')));
    assert.ok(existsSync(path.join(projectRoot(), 'supervisor', 'temporal-binary.ts')));
  });

  it('prefers SWITCHYARD_TEMPORAL_BIN over everything else', async () => {
    const explicit = await fakeBinary(path.join(tmp, 'explicit'));
    const onPathDir = path.join(tmp, 'pathdir');
    await fakeBinary(onPathDir);
    await fakeBinary(path.join(root, '.tools', 'bin'));
    try {
      const found = await resolveTemporalBinary({
        env: { SWITCHYARD_TEMPORAL_BIN: explicit, PATH: onPathDir },
        projectRoot: root,
        onProgress: quiet,
        goLocations: [],
      });
      assert.deepEqual(found, { kind: 'path', path: explicit, via: 'env' });
    } finally {
      await rm(path.join(root, '.tools'), { recursive: true, force: true });
    }
  });

  it('uses temporal on PATH before .tools/bin', async () => {
    const onPathDir = path.join(tmp, 'pathdir2');
    const onPath = await fakeBinary(onPathDir);
    await fakeBinary(path.join(root, '.tools', 'bin'));
    try {
      const found = await resolveTemporalBinary({
        env: { PATH: [path.join(tmp, 'missing'), onPathDir].join(path.delimiter) },
        projectRoot: root,
        onProgress: quiet,
        goLocations: [],
      });
      assert.deepEqual(found, { kind: 'path', path: onPath, via: 'path' });
    } finally {
      await rm(path.join(root, '.tools'), { recursive: true, force: true });
    }
  });

  it('skips a non-executable temporal on PATH', async () => {
    const dir = path.join(tmp, 'noexec');
    await mkdir(dir, { recursive: true });
    await writeFile(path.join(dir, 'temporal'), 'not a program');
    const tools = await fakeBinary(path.join(root, '.tools', 'bin'));
    try {
      const found = await resolveTemporalBinary({ env: { PATH: dir }, projectRoot: root, onProgress: quiet, goLocations: [] });
      assert.deepEqual(found, { kind: 'path', path: tools, via: 'tools' });
    } finally {
      await rm(path.join(root, '.tools'), { recursive: true, force: true });
    }
  });

  it('falls back to <root>/.tools/bin/temporal', async () => {
    const tools = await fakeBinary(path.join(root, '.tools', 'bin'));
    try {
      const found = await resolveTemporalBinary({ env: {}, projectRoot: root, onProgress: quiet, goLocations: [] });
      assert.deepEqual(found, { kind: 'path', path: tools, via: 'tools' });
    } finally {
      await rm(path.join(root, '.tools'), { recursive: true, force: true });
    }
  });

  it('refuses a SWITCHYARD_TEMPORAL_BIN that does not exist or is not executable', async () => {
    const missing = path.join(tmp, 'nope', 'temporal');
    await assert.rejects(
      resolveTemporalBinary({ env: { SWITCHYARD_TEMPORAL_BIN: missing }, projectRoot: root, onProgress: quiet, goLocations: [] }),
      (err: unknown) => err instanceof TemporalBinaryError && err.message.includes('SWITCHYARD_TEMPORAL_BIN') && err.message.includes('does not exist'),
    );
    const plain = path.join(tmp, 'plain-file');
    await writeFile(plain, 'x');
    await chmod(plain, 0o644);
    await assert.rejects(
      resolveTemporalBinary({ env: { SWITCHYARD_TEMPORAL_BIN: plain }, projectRoot: root, onProgress: quiet, goLocations: [] }),
      (err: unknown) => err instanceof TemporalBinaryError && err.message.includes('is not executable'),
    );
    // Even with a working temporal on PATH: an explicit setting that is wrong is an error, not a fallback.
    const onPathDir = path.join(tmp, 'pathdir3');
    await fakeBinary(onPathDir);
    await assert.rejects(
      resolveTemporalBinary({ env: { SWITCHYARD_TEMPORAL_BIN: tmp, PATH: onPathDir }, projectRoot: root, onProgress: quiet, goLocations: [] }),
      /is not a file/,
    );
  });

  it('lists every option when nothing is found', async () => {
    await assert.rejects(
      resolveTemporalBinary({ env: {}, projectRoot: root, onProgress: quiet, goLocations: [] }),
      (err: unknown) => {
        assert.ok(err instanceof TemporalBinaryError);
        assert.match(err.message, /SWITCHYARD_TEMPORAL_BIN/);
        assert.match(err.message, /PATH/);
        assert.match(err.message, /install Go/);
        assert.match(err.message, /internet/);
        assert.ok(err.message.includes(TEMPORAL_CLI_VERSION));
        return true;
      },
    );
  });

  it('offers the SDK download when allowed and nothing else is found', async () => {
    const found = await resolveTemporalBinary({ env: {}, projectRoot: root, onProgress: quiet, goLocations: [], allowSdkDownload: true });
    assert.deepEqual(found, { kind: 'sdk-download' });
  });

  it('runs `go install` with GOBIN in .tools when Go is found (fake go)', async () => {
    // A fake `go` that records its arguments and "builds" a binary into $GOBIN.
    const goDir = path.join(tmp, 'fakego');
    await mkdir(goDir, { recursive: true });
    const record = path.join(tmp, 'go-args.txt');
    await writeFile(
      path.join(goDir, 'go'),
      `#!/bin/sh\necho "$@" > "${record}"\nprintf '#!/bin/sh\\necho built\\n' > "$GOBIN/temporal"\nchmod +x "$GOBIN/temporal"\n`,
    );
    await chmod(path.join(goDir, 'go'), 0o755);
    const lines: string[] = [];
    try {
      const found = await resolveTemporalBinary({
        env: { PATH: `${goDir}${path.delimiter}/usr/bin${path.delimiter}/bin` },
        projectRoot: root,
        onProgress: (line) => lines.push(line),
        goLocations: [],
      });
      assert.deepEqual(found, { kind: 'path', path: path.join(root, '.tools', 'bin', 'temporal'), via: 'go-install' });
      const { readFile } = await import('node:fs/promises');
      assert.equal((await readFile(record, 'utf8')).trim(), `install github.com/temporalio/cli/cmd/temporal@${TEMPORAL_CLI_VERSION}`);
      assert.match(lines[0] ?? '', /building temporal v1\.5\.1 with go \(first run only/);
      assert.ok(!existsSync(path.join(root, '.tools', 'temporal-build.lock')), 'the build lock is released');
    } finally {
      await rm(path.join(root, '.tools'), { recursive: true, force: true });
    }
  });

  it('reports a failed go build with its output', async () => {
    const goDir = path.join(tmp, 'badgo');
    await mkdir(goDir, { recursive: true });
    await writeFile(path.join(goDir, 'go'), '#!/bin/sh\necho "go: module lookup disabled" >&2\nexit 1\n');
    await chmod(path.join(goDir, 'go'), 0o755);
    try {
      await assert.rejects(
        resolveTemporalBinary({ env: { PATH: `${goDir}${path.delimiter}/usr/bin${path.delimiter}/bin` }, projectRoot: root, onProgress: () => undefined, goLocations: [] }),
        (err: unknown) => err instanceof TemporalBinaryError && /exit 1/.test(err.message) && /module lookup disabled/.test(err.message),
      );
    } finally {
      await rm(path.join(root, '.tools'), { recursive: true, force: true });
    }
  });
});
