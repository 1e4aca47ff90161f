// A Temporal dev server that one test file owns, to stop and start again on the same
// database (the suite's shared server must stay up for everyone else).
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { resolveTemporalBinary } from '../../supervisor/temporal-binary.js';
import { devServerArgs, waitForTemporal } from '../../supervisor/temporal-dev-server.js';
import { freePort } from './processes.js';

export class OwnTemporal {
  private server: ChildProcess | undefined;

  private constructor(
    private readonly dir: string,
    private readonly port: number,
  ) {}

  /** Creates the database directory, picks a port and starts the server. */
  static async start(label: string): Promise<OwnTemporal> {
    const own = new OwnTemporal(mkdtempSync(path.join(tmpdir(), `switchyard-${label}-`)), await freePort());
    await own.start();
    return own;
  }

  get address(): string {
    return `127.0.0.1:${this.port}`;
  }

  get running(): boolean {
    return this.server !== undefined;
  }

  async start(): Promise<void> {
    const binary = await resolveTemporalBinary();
    assert.equal(binary.kind, 'path', 'these tests need the temporal CLI');
    if (binary.kind !== 'path') return;
    const args = devServerArgs({ dbFile: path.join(this.dir, 'temporal.sqlite'), port: this.port, headless: true, logLevel: 'error' });
    this.server = spawn(binary.path, args, { stdio: 'ignore' });
    await waitForTemporal(this.address, { timeoutMs: 60_000 });
  }

  /** SIGTERM lets it shut down; SIGKILL is a crash. */
  async stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
    const server = this.server;
    if (!server) return;
    const exited = new Promise((resolve) => server.once('exit', resolve));
    server.kill(signal);
    await exited;
    this.server = undefined;
  }

  async dispose(): Promise<void> {
    await this.stop();
    rmSync(this.dir, { recursive: true, force: true });
  }
}
