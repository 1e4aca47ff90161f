import { execFile } from 'node:child_process';
import path from 'node:path';
const dir = '/tmp/sectest';
const env = Object.fromEntries(Object.entries(process.env).filter(([key]) => !key.startsWith('SWITCHYARD_')));
const t = Date.now();
const child = execFile(process.execPath, ['--import', import.meta.resolve('tsx'), path.resolve('/work/wt/faults/api/main.ts')], { cwd: dir, env: { ...env, SWITCHYARD_HOME: dir }, timeout: 60_000 }, (error, stdout, stderr) => console.log(child.exitCode, String(error), stderr, Date.now() - t));
