// The MCP server's line to the gateway, against a bare WebSocket JSON-RPC peer: it opens on
// the first call, opens again after the connection dropped, and turns every failure into a
// GatewayCallError instead of an exception the server would die of.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { WebSocketServer, type WebSocket } from 'ws';
import { GatewayCallError, GatewayConnection } from '../mcp/gateway-connection.js';
import { freePort } from './support/processes.js';

let server: WebSocketServer;
let url: string;
let connections = 0;
const sockets = new Set<WebSocket>();

before(async () => {
  server = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  await new Promise((resolve) => server.once('listening', resolve));
  url = `ws://127.0.0.1:${(server.address() as { port: number }).port}/rpc`;
  server.on('connection', (socket) => {
    connections += 1;
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('message', (data) => {
      const request = JSON.parse(data.toString()) as { id: number; method: string; params?: unknown };
      if (request.method === 'echo') socket.send(JSON.stringify({ jsonrpc: '2.0', id: request.id, result: { params: request.params, connection: connections } }));
      else if (request.method === 'silent') return;
      else if (request.method === 'hangup') socket.terminate();
      else socket.send(JSON.stringify({ jsonrpc: '2.0', id: request.id, error: { code: -32601, message: 'Method not found', data: { method: request.method } } }));
    });
  });
});
after(async () => {
  for (const socket of sockets) socket.terminate();
  await new Promise((resolve) => server.close(resolve));
});

describe('GatewayConnection', () => {
  test('one connection for many calls, and a new one after it dropped', async () => {
    const gateway = new GatewayConnection({ url });
    try {
      const first = (await gateway.call('echo', { n: 1 })) as { params: unknown; connection: number };
      assert.deepEqual(first.params, { n: 1 });
      const second = (await gateway.call('echo', { n: 2 })) as { connection: number };
      assert.equal(second.connection, first.connection);

      await assert.rejects(gateway.call('hangup', {}), (error: unknown) => error instanceof GatewayCallError && /may or may not have been applied/.test(error.message));
      const third = (await gateway.call('echo', { n: 3 })) as { connection: number };
      assert.ok(third.connection > first.connection);
    } finally {
      await gateway.close();
    }
  });

  test('an error answer keeps its code and data', async () => {
    const gateway = new GatewayConnection({ url });
    try {
      await assert.rejects(gateway.call('nope.method', {}), (error: unknown) => {
        assert.ok(error instanceof GatewayCallError);
        assert.equal(error.code, -32601);
        assert.deepEqual(error.data, { method: 'nope.method' });
        assert.match(error.message, /nope\.method failed: Method not found \(JSON-RPC error -32601\)/);
        return true;
      });
    } finally {
      await gateway.close();
    }
  });

  test('no answer within the call timeout, and nobody listening, are errors of the call', async () => {
    const gateway = new GatewayConnection({ url }, { callTimeoutMs: 200 });
    try {
      await assert.rejects(gateway.call('silent', {}), /did not answer silent within 200 ms/);
    } finally {
      await gateway.close();
    }
    const nobody = new GatewayConnection({ url: `ws://127.0.0.1:${await freePort()}/rpc` });
    await assert.rejects(nobody.call('echo', {}), /cannot reach the Switchyard gateway/);
    await nobody.close();
  });
});
