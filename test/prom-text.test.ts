// The test parser of the Prometheus text format, against prom-client's own output and
// against lines it must refuse.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Counter, Histogram, Registry } from 'prom-client';
import { parsePrometheusText, sampleValue } from './support/prom-text.js';

test('reads what prom-client writes: help, type, labels with escapes, histograms', async () => {
  const registry = new Registry();
  const counter = new Counter({ name: 'demo_total', help: 'A "demo"\\counter\nover two lines', labelNames: ['path'], registers: [registry] });
  counter.inc({ path: 'a"b\\c\nd' }, 3);
  counter.inc({ path: 'plain' });
  const histogram = new Histogram({ name: 'demo_seconds', help: 'h', buckets: [1, 5], registers: [registry] });
  histogram.observe(2);
  const families = parsePrometheusText(await registry.metrics());
  assert.equal(families.get('demo_total')?.type, 'counter');
  assert.equal(families.get('demo_total')?.help, 'A "demo"\\counter\nover two lines');
  assert.equal(sampleValue(families, 'demo_total', { path: 'a"b\\c\nd' }), 3);
  assert.equal(sampleValue(families, 'demo_total'), 4);
  assert.equal(families.get('demo_seconds')?.type, 'histogram');
  assert.equal(sampleValue(families, 'demo_seconds_bucket', { le: '1' }), 0);
  assert.equal(sampleValue(families, 'demo_seconds_bucket', { le: '5' }), 1);
  assert.equal(sampleValue(families, 'demo_seconds_bucket', { le: '+Inf' }), 1);
  assert.equal(sampleValue(families, 'demo_seconds_count'), 1);
  assert.equal(sampleValue(families, 'demo_seconds_sum'), 2);
});

test('refuses malformed lines and samples of undeclared metrics', () => {
  const declared = '# TYPE m counter\n';
  assert.throws(() => parsePrometheusText(`${declared}m{a="1"} x\n`), /bad value/);
  assert.throws(() => parsePrometheusText(`${declared}m{a=1} 1\n`), /bad labels/);
  assert.throws(() => parsePrometheusText(`${declared}m{a="1",a="2"} 1\n`), /twice/);
  assert.throws(() => parsePrometheusText(`${declared}m{a="1"\n`), /not a sample|bad labels/);
  assert.throws(() => parsePrometheusText('other 1\n'), /undeclared/);
  assert.throws(() => parsePrometheusText('# TYPE m countr\n'), /unknown type/);
  assert.equal(sampleValue(parsePrometheusText(`${declared}m 7 1700000000000\n`), 'm'), 7);
});
