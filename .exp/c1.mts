import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { loadConfig } from '/work/wt/faults/config/load.js';
const dir = mkdtempSync(path.join(tmpdir(), 'c1-'));
writeFileSync(path.join(dir, 'switchyard.yaml'), "gateway:\n  port: 8420\n  auth:\n    &token: fuzz-secret-value-9f3b2d71\nagents:\n  main:\n    model: sonnet\n");
try { loadConfig({ cwd: dir, env: { SWITCHYARD_HOME: dir } }); } catch (e) { console.log((e as Error).constructor.name, (e as Error).message); }
