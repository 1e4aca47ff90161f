#!/usr/bin/env node
// In a checkout, run the TypeScript sources through tsx (a stale dist/ never shadows them);
// in an installed package without sources, the compiled dist/.
import { existsSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';

const sources = fileURLToPath(new URL('../cli/main.ts', import.meta.url));
if (existsSync(sources)) {
  const { register } = await import('tsx/esm/api');
  register();
  await import(pathToFileURL(sources).href);
} else {
  await import(new URL('../dist/cli/main.js', import.meta.url).href);
}
