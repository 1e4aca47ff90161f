import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { switchyardHome, temporalAddress, temporalDbFile, userConfigFile } from '../config/paths.js';
import { ConfigSchema } from '../config/schema.js';

test('switchyardHome: SWITCHYARD_HOME, else ~/.switchyard', () => {
  assert.equal(switchyardHome({ SWITCHYARD_HOME: '/srv/sy', HOME: '/home/u' }), '/srv/sy');
  assert.equal(switchyardHome({ HOME: '/home/u' }), '/home/u/.switchyard');
  assert.equal(switchyardHome({ SWITCHYARD_HOME: '~/state', HOME: '/home/u' }), '/home/u/state');
  assert.equal(switchyardHome({ SWITCHYARD_HOME: 'rel', HOME: '/home/u' }), path.resolve('rel'));
  assert.equal(userConfigFile({ SWITCHYARD_HOME: '/srv/sy' }), '/srv/sy/config.yaml');
});

test('temporalAddress: embedded is loopback on the dev server port', () => {
  assert.equal(temporalAddress(ConfigSchema.parse({})), '127.0.0.1:7233');
  assert.equal(temporalAddress(ConfigSchema.parse({ temporal: { devServerPort: 17233 } })), '127.0.0.1:17233');
  assert.equal(temporalAddress(ConfigSchema.parse({ temporal: { address: 'temporal:7233' } })), 'temporal:7233');
});

test('temporalDbFile: temporal.dbFile, else $SWITCHYARD_HOME/temporal.sqlite', () => {
  assert.equal(temporalDbFile(ConfigSchema.parse({}), { SWITCHYARD_HOME: '/srv/sy' }), '/srv/sy/temporal.sqlite');
  assert.equal(temporalDbFile(ConfigSchema.parse({ temporal: { dbFile: '/data/t.db' } }), {}), '/data/t.db');
  assert.equal(temporalDbFile(ConfigSchema.parse({ temporal: { dbFile: 't.db' } }), {}, '/work'), '/work/t.db');
  assert.equal(temporalDbFile(ConfigSchema.parse({ temporal: { dbFile: '~/t.db' } }), { HOME: '/home/u' }), '/home/u/t.db');
});
