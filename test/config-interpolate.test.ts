import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigError } from '../config/errors.js';
import { interpolate, interpolateString } from '../config/interpolate.js';

const env = { NAME: 'world', EMPTY: '', PORT: '9000' };

describe('interpolateString', () => {
  test('${VAR}', () => {
    assert.equal(interpolateString('hello ${NAME}!', env).text, 'hello world!');
    assert.equal(interpolateString('${NAME}${NAME}', env).text, 'worldworld');
    assert.equal(interpolateString('${EMPTY}', env).text, '');
  });

  test('${VAR:-default}: the default when unset or empty', () => {
    assert.equal(interpolateString('${NOPE:-fallback}', env).text, 'fallback');
    assert.equal(interpolateString('${EMPTY:-fallback}', env).text, 'fallback');
    assert.equal(interpolateString('${NAME:-fallback}', env).text, 'world');
    assert.equal(interpolateString('${NOPE:-}', env).text, '');
    assert.equal(interpolateString('${NOPE:-a:-b}', env).text, 'a:-b');
  });

  test('defaults may nest references', () => {
    assert.equal(interpolateString('${NOPE:-${NAME}}', env).text, 'world');
    assert.equal(interpolateString('${NOPE:-${ALSO_NOPE:-deep}}', env).text, 'deep');
  });

  test('$${ is a literal ${', () => {
    assert.equal(interpolateString('$${NAME}', env).text, '${NAME}');
    assert.equal(interpolateString('a $${NOPE} and ${NAME}', env).text, 'a ${NOPE} and world');
    assert.equal(interpolateString('$${', env).text, '${');
    assert.equal(interpolateString('${NOPE:-$${x}}', env).text, '${x}');
  });

  test('text without references is untouched, including lone $ and $$', () => {
    for (const text of ['plain', '$NAME', 'cost: $5', '$$', '{NAME}', '$ {NAME}']) {
      const result = interpolateString(text, env);
      assert.equal(result.text, text);
      assert.equal(result.interpolated, false);
    }
  });

  test('an unset variable without a default names the variable and the path', () => {
    assert.throws(
      () => interpolateString('${MISSING_VAR}', env, ['gateway', 'auth', 'token'], '/x/switchyard.yaml'),
      (error: unknown) => {
        assert.ok(error instanceof ConfigError);
        assert.equal(error.exitCode, 78);
        assert.match(error.message, /^\/x\/switchyard\.yaml: gateway\.auth\.token: environment variable MISSING_VAR is not set/);
        return true;
      },
    );
  });

  test('malformed references are errors', () => {
    assert.throws(() => interpolateString('${NAME', env), /unterminated/);
    assert.throws(() => interpolateString('${}', env), /invalid reference/);
    assert.throws(() => interpolateString('${1ABC}', env), /invalid reference/);
    assert.throws(() => interpolateString('${A B}', env), /invalid reference/);
  });
});

describe('interpolate (documents)', () => {
  test('every string value, recursively, keys untouched, other scalars untouched', () => {
    const document = {
      '${NAME}': 'key stays',
      list: ['${NAME}', 1, true, null, { deep: '${PORT}' }],
      nested: { a: { b: 'x-${NAME}-y' } },
      number: 3,
    };
    const out = interpolate(document, env);
    assert.deepEqual(out, {
      '${NAME}': 'key stays',
      list: ['world', 1, true, null, { deep: '9000' }],
      nested: { a: { b: 'x-world-y' } },
      number: 3,
    });
    assert.equal(document.nested.a.b, 'x-${NAME}-y', 'the input is not modified');
  });

  test('reports the paths that held references', () => {
    const paths: (string | number)[][] = [];
    interpolate({ a: '${NAME}', b: 'plain', c: ['$${x}', '${PORT}'] }, env, { onInterpolated: (p) => paths.push(p) });
    assert.deepEqual(paths, [['a'], ['c', 1]]);
  });

  test('errors carry the dotted path, with list indices', () => {
    assert.throws(
      () => interpolate({ agents: { main: { addDirs: ['ok', '${NOPE}'] } } }, env, { source: 'f.yaml' }),
      /^ConfigError: f\.yaml: agents\.main\.addDirs\.1: environment variable NOPE is not set/,
    );
  });

  test('the environment is an argument: nothing is read from process.env', () => {
    const before = process.env.SWITCHYARD_INTERPOLATE_PROBE;
    process.env.SWITCHYARD_INTERPOLATE_PROBE = 'leak';
    try {
      assert.throws(() => interpolate({ a: '${SWITCHYARD_INTERPOLATE_PROBE}' }, {}), /SWITCHYARD_INTERPOLATE_PROBE is not set/);
    } finally {
      if (before === undefined) delete process.env.SWITCHYARD_INTERPOLATE_PROBE;
      else process.env.SWITCHYARD_INTERPOLATE_PROBE = before;
    }
  });
});
