// The webhook template language: syntax, filters, safety (no code, no prototypes), bounds.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { compileTemplate, parsePath, TemplateError, type TemplateContext } from '../api/webhooks/template.js';

const context: TemplateContext = {
  source: 'github',
  headers: { 'x-github-event': 'pull_request', 'x-github-delivery': 'd-1' },
  query: { ref: 'main' },
  body: {
    action: 'opened',
    number: 42,
    draft: false,
    repository: { full_name: 'acme/api', topics: ['a', 'b'] },
    pull_request: { title: 'Fix the thing', body: null, labels: [{ name: 'bug' }, { name: 'urgent' }] },
    'weird key': 'w',
    empty: '',
  },
};
const render = (template: string, ctx: TemplateContext = context, maxLength?: number) =>
  compileTemplate(template).render(ctx, maxLength === undefined ? undefined : { maxLength }).text;

describe('paths', () => {
  test('body, header(s), query and source', () => {
    assert.equal(render('{{body.repository.full_name}}'), 'acme/api');
    assert.equal(render('{{ header.x-github-event }}/{{headers.X-GitHub-Delivery}}'), 'pull_request/d-1');
    assert.equal(render('{{query.ref}} from {{source}}'), 'main from github');
    assert.equal(render('#{{body.number}} draft={{body.draft}}'), '#42 draft=false');
  });

  test('indexes and quoted keys', () => {
    assert.equal(render('{{body.pull_request.labels[1].name}} {{body.pull_request.labels.0.name}}'), 'urgent bug');
    assert.equal(render(`{{body["weird key"]}} {{body['repository']["full_name"]}}`), 'w acme/api');
  });

  test('missing values render empty; objects render as JSON', () => {
    assert.equal(render('[{{body.nope.deeper}}][{{body.pull_request.body}}][{{body.number.x}}]'), '[][][]');
    assert.equal(render('{{body.repository.topics}}'), '["a","b"]');
  });

  test('plain text passes through; a lone "}}" is text; literals', () => {
    assert.equal(render('no holes }} here'), 'no holes }} here');
    assert.equal(render('{{ "{{" }}literal{{ "}}" }} {{ 7 }}'), '{{literal}} 7');
    assert.equal(compileTemplate('plain').constant, true);
    assert.equal(compileTemplate('{{source}}').constant, false);
  });
});

describe('filters', () => {
  test('json, upper, lower, trim', () => {
    assert.equal(render('{{body.repository | json}}'), JSON.stringify((context.body as any).repository, null, 2));
    assert.equal(render('{{body | json}}'), JSON.stringify(context.body, null, 2));
    assert.equal(render('{{body.action | upper}} {{ "MiXed" | lower }} [{{ "  x  " | trim }}]'), 'OPENED mixed [x]');
  });

  test('default applies to missing, null and empty values only', () => {
    assert.equal(render('{{body.nope | default: "none"}}|{{body.pull_request.body | default: "no body"}}|{{body.empty | default: 0}}'), 'none|no body|0');
    assert.equal(render('{{body.draft | default: "x"}}|{{body.number | default: "x"}}'), 'false|42');
  });

  test('truncate: N characters, the last an ellipsis when cut; code points are not split', () => {
    assert.equal(render('{{body.pull_request.title | truncate: 5}}'), 'Fix …');
    assert.equal(render('{{body.pull_request.title | truncate: 50}}'), 'Fix the thing');
    assert.equal(render('{{ "😀😀😀😀" | truncate: 3 }}'), '😀😀…');
  });

  test('filters chain left to right', () => {
    assert.equal(render('{{body.nope | default: "fallback value" | upper | truncate: 4}}'), 'FAL…');
  });
});

describe('compile errors (reported as config errors)', () => {
  const bad: [string, RegExp][] = [
    ['{{ body.title', /unclosed/],
    ['{{ }}', /expected a path/],
    ['{{ process.env.HOME }}', /unknown name "process"/],
    ['{{ body.__proto__ }}', /"__proto__" is not allowed/],
    ['{{ body.constructor.name }}', /"constructor" is not allowed/],
    ['{{ body["prototype"] }}', /"prototype" is not allowed/],
    ['{{ body | shout }}', /unknown filter "shout"/],
    ['{{ body | truncate }}', /truncate/],
    ['{{ body | truncate: -1 }}', /truncate/],
    ['{{ body | default }}', /default/],
    ['{{ body | upper: 3 }}', /takes no argument/],
    ['{{ "abc }}', /unterminated string/],
    ['{{ body.a b }}', /unexpected "b"/],
    ['{{ source.x }}', /"source" has no properties/],
    ['{{ body[-1] }}', /non-negative index|quoted key/],
    ['{{ body.x() }}', /unexpected/],
  ];
  for (const [template, message] of bad) {
    test(`${JSON.stringify(template)} is refused`, () => {
      assert.throws(() => compileTemplate(template), (error: unknown) => error instanceof TemplateError && message.test(error.message));
    });
  }

  test('errors say where', () => {
    assert.throws(() => compileTemplate('Hello {{ body.x | nope }}'), /at character 19/);
  });

  test('parsePath takes paths only', () => {
    assert.deepEqual(parsePath('body.a[0].b'), { kind: 'path', root: 'body', segments: ['a', 0, 'b'] });
    assert.throws(() => parsePath('body.a | json'), TemplateError);
    assert.throws(() => parsePath('nothing'), TemplateError);
  });
});

describe('safety', () => {
  test('no prototype access: inherited and non-data properties are invisible', () => {
    const inherited = Object.create({ secret: 'from the prototype' }) as Record<string, unknown>;
    inherited.own = 'mine';
    assert.equal(render('[{{body.secret}}][{{body.own}}]', { body: inherited }), '[][mine]');
    assert.equal(render('[{{body.toString}}][{{body.hasOwnProperty}}][{{body.valueOf}}]', { body: {} }), '[][][]');
    assert.equal(render('[{{body.length}}][{{body.0}}]', { body: 'text' }), '[][]');
    const getter = Object.defineProperty({}, 'g', { get: () => 'ran code', enumerable: true });
    assert.equal(render('[{{body.g}}]', { body: getter }), '[]');
    // JSON.parse makes "__proto__" an own key; it is still unreachable.
    assert.equal(render('[{{body["x"]}}]', { body: JSON.parse('{"__proto__": {"x": 1}}') }), '[]');
  });

  test('output is bounded', () => {
    const big = { text: 'x'.repeat(100_000) };
    const out = compileTemplate('{{body.text}}{{body.text}}{{body | json}}').render({ body: big }, { maxLength: 1000 });
    assert.equal(out.text.length, 1000);
    assert.equal(out.truncated, true);
    assert.equal(compileTemplate('{{body.text}}').render({ body: { text: 'short' } }, { maxLength: 1000 }).truncated, false);
  });

  const jsonValue = fc.jsonValue({ maxDepth: 4 });
  const anyContext = fc.record({
    body: fc.oneof(jsonValue, fc.object(), fc.constant(undefined)),
    headers: fc.dictionary(fc.string(), fc.string()),
    query: fc.dictionary(fc.string(), fc.string()),
    source: fc.string(),
  });
  const pieces = fc.array(
    fc.oneof(
      fc.string(),
      fc.constantFrom('{{', '}}', '|', ':', '.', '[', ']', '"', "'", ' ', 'body', 'header', 'query', 'source', '__proto__', 'constructor', 'json', 'default', 'truncate', 'upper', '0', '-1', '5'),
    ),
    { maxLength: 30 },
  );

  test('compiling arbitrary text either works or throws TemplateError, nothing else', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string(), pieces.map((p) => p.join(''))), (text) => {
        try {
          compileTemplate(text);
        } catch (error) {
          assert.ok(error instanceof TemplateError, String(error));
        }
      }),
      { numRuns: 2000 },
    );
  });

  test('rendering never throws, never exceeds its bound, and never reaches Object.prototype', () => {
    const templates = fc.constantFrom(
      '{{body}}',
      '{{body | json}}',
      '{{body.a.b.c | default: "d" | upper}}',
      '{{header.x | truncate: 3}}{{query.q | lower}}',
      '{{body[0][1]["k"]}} {{source}}',
      '{{body.toString}}{{body.__defineGetter__}}',
    );
    fc.assert(
      fc.property(templates, anyContext, fc.integer({ min: 0, max: 500 }), (template, ctx, maxLength) => {
        const out = compileTemplate(template).render(ctx as TemplateContext, { maxLength });
        assert.ok(out.text.length <= maxLength);
        assert.doesNotMatch(out.text, /function|\[native code\]/);
      }),
      { numRuns: 1000 },
    );
  });

  test('a path never reaches a key that is not the data\'s own', () => {
    fc.assert(
      fc.property(fc.string({ minLength: 1, maxLength: 12 }).filter((key) => /^[A-Za-z0-9_$-]+$/.test(key)), (key) => {
        const body = Object.create({ [key]: 'inherited' }) as object;
        let rendered = '';
        try {
          rendered = compileTemplate(`{{body.${key}}}`).render({ body }).text;
        } catch (error) {
          assert.ok(error instanceof TemplateError);
        }
        assert.equal(rendered, '');
      }),
    );
  });
});
