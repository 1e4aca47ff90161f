import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { parseStreamJsonLine } from '../activities/stream-json.js';

test('init, text delta, tool call, tool result and result lines', () => {
  assert.deepEqual(parseStreamJsonLine('{"type":"system","subtype":"init","session_id":"abc","tools":[]}'), [{ kind: 'init', sessionId: 'abc' }]);
  assert.deepEqual(
    parseStreamJsonLine('{"type":"stream_event","parent_tool_use_id":null,"event":{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"Hi"}}}'),
    [{ kind: 'text', text: 'Hi' }],
  );
  assert.deepEqual(
    parseStreamJsonLine('{"type":"assistant","message":{"content":[{"type":"text","text":"x"},{"type":"tool_use","id":"t1","name":"Bash","input":{"command":"ls"}}]}}'),
    [{ kind: 'tool_call', id: 't1', name: 'Bash', input: { command: 'ls' } }],
  );
  assert.deepEqual(
    parseStreamJsonLine('{"type":"user","message":{"content":[{"type":"tool_result","tool_use_id":"t1","content":"out","is_error":false}]}}'),
    [{ kind: 'tool_result', id: 't1', content: 'out', isError: false }],
  );
  const [result] = parseStreamJsonLine('{"type":"result","subtype":"success","is_error":false,"result":"done","session_id":"abc","total_cost_usd":0.01,"usage":{"input_tokens":3},"num_turns":1,"duration_ms":900}');
  assert.equal(result?.kind, 'result');
  assert.equal(result?.kind === 'result' && result.result.result, 'done');
});

test('sub-agent text is not streamed as the answer', () => {
  assert.deepEqual(
    parseStreamJsonLine('{"type":"stream_event","parent_tool_use_id":"toolu_1","event":{"type":"content_block_delta","delta":{"type":"text_delta","text":"inner"}}}'),
    [],
  );
});

test('unknown, partial and malformed lines are reported, never thrown', () => {
  assert.deepEqual(parseStreamJsonLine(''), []);
  assert.deepEqual(parseStreamJsonLine('{"type":"system","subtype":"hook_started"}'), [{ kind: 'other', type: 'system' }]);
  assert.equal(parseStreamJsonLine('{"type":"result","subt')[0]?.kind, 'invalid');
  assert.equal(parseStreamJsonLine('not json at all')[0]?.kind, 'invalid');
  fc.assert(
    fc.property(fc.oneof(fc.string(), fc.json()), (line) => {
      assert.ok(Array.isArray(parseStreamJsonLine(line)));
    }),
  );
});
