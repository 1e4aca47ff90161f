import assert from 'node:assert/strict';
import fs from 'node:fs';
import { test } from 'node:test';
import { METRICS } from '../observability/metrics.js';
import { OBSERVABILITY_DOCS_FILE, renderObservabilityDocs } from '../observability/docs.js';

test('docs/observability.md is not stale (regenerate with `tsx observability/docs.ts --write`)', () => {
  assert.ok(fs.existsSync(OBSERVABILITY_DOCS_FILE), `${OBSERVABILITY_DOCS_FILE} is missing`);
  assert.equal(fs.readFileSync(OBSERVABILITY_DOCS_FILE, 'utf8'), renderObservabilityDocs());
});

test('every metric is documented, named switchyard_*, with help and a unique name', () => {
  const docs = renderObservabilityDocs();
  const names = Object.values(METRICS).map((spec) => spec.name);
  assert.equal(new Set(names).size, names.length);
  for (const spec of Object.values(METRICS)) {
    assert.match(spec.name, /^switchyard_[a-z_]+$/);
    if (spec.type === 'counter') assert.match(spec.name, /_total$/, `${spec.name}: counters end in _total`);
    assert.ok(spec.help.length > 20, `${spec.name} has help`);
    assert.ok(docs.includes(`| \`${spec.name}\` | ${spec.type} |`), `${spec.name} is in the table`);
  }
});
