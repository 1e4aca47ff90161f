// The service files of `switchyard service install`: their content, systemd's own verdict
// (`systemd-analyze verify`), the plist as a plist parser reads it, and the real CLI's
// `install --print`, `status` and refusals.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { EXIT_CONFIG_ERROR } from '../supervisor/child-process.js';
import { projectRoot } from '../supervisor/temporal-binary.js';
import { launchdPlist } from '../service/launchd-plist.js';
import {
  buildServiceSpec,
  installedProgram,
  parseLaunchctlPrint,
  parseSystemctlShow,
  serviceFilePath,
  systemdUserManagerProblem,
  runCommand,
} from '../service/manager.js';
import { ServiceSpecError, type ServiceSpec } from '../service/spec.js';
import { execWord, systemdUnit } from '../service/systemd-unit.js';
import { switchyardArgv } from './support/processes.js';

let tmp: string;
before(() => {
  tmp = mkdtempSync(path.join(tmpdir(), 'switchyard-service-'));
});
after(() => rmSync(tmp, { recursive: true, force: true }));

function spec(overrides: Partial<ServiceSpec> = {}): ServiceSpec {
  const home = path.join(tmp, 'home');
  return {
    name: 'switchyard',
    nodePath: process.execPath,
    entryScript: path.join(projectRoot(), 'bin', 'switchyard.js'),
    args: ['start'],
    workingDirectory: tmp,
    home,
    envFile: path.join(home, 'service.env'),
    environment: { PATH: '/usr/local/bin:/usr/bin:/bin' },
    logFile: path.join(home, 'logs', 'service.log'),
    ...overrides,
  };
}

/** The lines of one section of a unit file. */
function section(unit: string, name: string): string[] {
  const lines = unit.split('\n');
  const start = lines.indexOf(`[${name}]`);
  assert.ok(start >= 0, `no [${name}] section`);
  const rest = lines.slice(start + 1);
  const end = rest.findIndex((line) => line.startsWith('['));
  return (end < 0 ? rest : rest.slice(0, end)).filter((line) => line !== '' && !line.startsWith('#'));
}

// A plist parser for the subset launchd agents use: enough to read back what we wrote, and
// strict enough to refuse malformed XML (an unclosed or mismatched tag, text out of place).
type PlistValue = string | number | boolean | PlistValue[] | { [key: string]: PlistValue };
function parsePlist(xml: string): PlistValue {
  const body = xml.replace(/^<\?xml[^>]*\?>\s*/, '').replace(/<!DOCTYPE[^>]*>\s*/, '').replace(/<!--[\s\S]*?-->\s*/g, '');
  const tokens = [...body.matchAll(/<(\/?)([A-Za-z]+)(?:\s[^>]*)?(\/?)>|([^<]+)/g)].filter((match) => match[4] === undefined || match[4].trim() !== '');
  let index = 0;
  const unescape = (text: string) => text.replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&quot;/g, '"').replace(/&apos;/g, "'").replace(/&amp;/g, '&');
  const expectClose = (tag: string) => {
    const token = tokens[index++];
    assert.ok(token && token[1] === '/' && token[2] === tag, `expected </${tag}>, got ${token?.[0]}`);
  };
  const text = (tag: string): string => {
    const token = tokens[index];
    let value = '';
    if (token && token[4] !== undefined) {
      assert.ok(!/[<>]/.test(token[4]) && !/&(?!(lt|gt|amp|quot|apos);)/.test(token[4]), `unescaped text in <${tag}>: ${token[4]}`);
      value = unescape(token[4]);
      index++;
    }
    expectClose(tag);
    return value;
  };
  const value = (): PlistValue => {
    const token = tokens[index++];
    assert.ok(token && token[1] === '' && token[2], `expected a value, got ${token?.[0]}`);
    const tag = token[2];
    if (token[3] === '/') {
      assert.ok(tag === 'true' || tag === 'false' || tag === 'dict' || tag === 'array', `unexpected <${tag}/>`);
      return tag === 'true' ? true : tag === 'false' ? false : tag === 'dict' ? {} : [];
    }
    if (tag === 'string') return text(tag);
    if (tag === 'integer') return Number(text(tag));
    if (tag === 'array') {
      const items: PlistValue[] = [];
      while (tokens[index]?.[1] !== '/') items.push(value());
      expectClose('array');
      return items;
    }
    if (tag === 'dict') {
      const dict: Record<string, PlistValue> = {};
      while (tokens[index]?.[1] !== '/') {
        const key = tokens[index++];
        assert.ok(key?.[2] === 'key', `expected <key>, got ${key?.[0]}`);
        dict[text('key')] = value();
      }
      expectClose('dict');
      return dict;
    }
    throw new Error(`unknown plist element <${tag}>`);
  };
  const open = tokens[index++];
  assert.ok(open?.[2] === 'plist', 'expected <plist>');
  const root = value();
  expectClose('plist');
  assert.equal(index, tokens.length, 'text after </plist>');
  return root;
}

describe('systemd unit', () => {
  test('restarts always, but never after exit 78, and runs node with absolute paths', () => {
    const unit = systemdUnit(spec());
    const service = section(unit, 'Service');
    assert.ok(service.includes('Restart=always'));
    assert.ok(service.includes(`RestartPreventExitStatus=${EXIT_CONFIG_ERROR}`));
    assert.equal(EXIT_CONFIG_ERROR, 78);
    const exec = service.find((line) => line.startsWith('ExecStart='))!;
    assert.equal(exec, `ExecStart=${process.execPath} ${path.join(projectRoot(), 'bin', 'switchyard.js')} start`);
    assert.ok(path.isAbsolute(exec.slice('ExecStart='.length).split(' ')[0]!));
    assert.ok(service.includes(`WorkingDirectory=${tmp}`));
    assert.ok(service.includes(`Environment="SWITCHYARD_HOME=${path.join(tmp, 'home')}"`));
    assert.ok(service.includes('Environment="PATH=/usr/local/bin:/usr/bin:/bin"'));
    assert.ok(service.includes(`EnvironmentFile=-${path.join(tmp, 'home', 'service.env')}`));
    assert.ok(service.includes('KillMode=mixed'), 'SIGTERM goes to the supervisor alone, which stops its children in order');
    assert.deepEqual(section(unit, 'Install'), ['WantedBy=default.target']);
  });

  test('quotes words with spaces and keeps %, $ and quotes literal', () => {
    assert.equal(execWord('/usr/bin/node'), '/usr/bin/node');
    assert.equal(execWord('a b'), '"a b"');
    assert.equal(execWord('50%'), '50%%');
    assert.equal(execWord('$HOME'), '"$$HOME"');
    assert.equal(execWord('say "hi"'), '"say \\"hi\\""');
    assert.equal(execWord(''), '""');
  });

  test('the program paths read back from the file, through quoting and escapes', () => {
    const odd = path.join(tmp, 'dir with space%and$dollar');
    const unit = systemdUnit(spec({ nodePath: path.join(odd, 'node'), entryScript: path.join(odd, 'bin', 'switchyard.js'), args: ['start', '--port', '9000'] }));
    assert.deepEqual(installedProgram('systemd', unit), [path.join(odd, 'node'), path.join(odd, 'bin', 'switchyard.js')]);
  });

  test('refuses relative paths, line breaks and secret-looking variables', () => {
    assert.throws(() => systemdUnit(spec({ nodePath: 'node' })), ServiceSpecError);
    assert.throws(() => systemdUnit(spec({ workingDirectory: '.' })), ServiceSpecError);
    assert.throws(() => systemdUnit(spec({ args: ['start', 'a\nExecStartPre=/bin/evil'] })), ServiceSpecError);
    assert.throws(() => systemdUnit(spec({ environment: { ANTHROPIC_API_KEY: 'sk-ant-x' } })), /looks like a secret.*environment file/);
    assert.throws(() => systemdUnit(spec({ environment: { SWITCHYARD_TOKEN: 't' } })), /looks like a secret/);
    assert.throws(() => systemdUnit(spec({ name: '../evil' })), ServiceSpecError);
  });

  const analyze = '/usr/bin/systemd-analyze';
  test('systemd-analyze verify accepts the unit (and flags a broken one)', { skip: existsSync(analyze) ? false : `${analyze} is not installed` }, () => {
    // `verify --user` needs a runtime directory; a private one works without a user session.
    const runtime = path.join(tmp, 'runtime');
    mkdirSync(runtime, { recursive: true, mode: 0o700 });
    const dir = path.join(tmp, 'units');
    mkdirSync(dir, { recursive: true });
    const verify = (text: string) => {
      const file = path.join(dir, 'switchyard.service');
      writeFileSync(file, text);
      return spawnSync(analyze, ['verify', '--user', file], { encoding: 'utf8', env: { ...process.env, XDG_RUNTIME_DIR: runtime, SYSTEMD_LOG_COLOR: '0' } });
    };
    const unit = systemdUnit(spec({ args: ['start', '--set', 'agentDefaults.model=a "b" $c 100%'], environment: { PATH: '/usr/bin:/bin', NOTE: 'spaces and "quotes"' } }));
    const good = verify(unit);
    assert.equal(good.status, 0, good.stderr);
    assert.equal(good.stderr.trim(), '', `systemd-analyze complained:\n${good.stderr}`);
    // The check is worth something only if it notices mistakes: systemd reports a bad value as a warning.
    const broken = verify(unit.replace('Restart=always', 'Restart=alwayz'));
    assert.match(broken.stderr, /restart specifier/i);
  });
});

describe('launchd plist', () => {
  test('KeepAlive, RunAtLoad, the program with absolute paths, the environment and the env file', () => {
    const plist = parsePlist(launchdPlist(spec({ args: ['start', '--port', '9000'] }))) as Record<string, PlistValue>;
    assert.equal(plist.Label, 'switchyard');
    assert.equal(plist.KeepAlive, true);
    assert.equal(plist.RunAtLoad, true);
    assert.deepEqual(plist.ProgramArguments, [
      process.execPath,
      `--env-file=${path.join(tmp, 'home', 'service.env')}`,
      path.join(projectRoot(), 'bin', 'switchyard.js'),
      'start',
      '--port',
      '9000',
    ]);
    assert.equal(plist.WorkingDirectory, tmp);
    assert.deepEqual(plist.EnvironmentVariables, { PATH: '/usr/local/bin:/usr/bin:/bin', SWITCHYARD_HOME: path.join(tmp, 'home') });
    assert.equal(plist.StandardErrorPath, path.join(tmp, 'home', 'logs', 'service.log'));
    assert.equal(plist.ExitTimeOut, 60);
  });

  test('XML special characters are escaped and read back', () => {
    const odd = path.join(tmp, 'a&b <c> "d"');
    const text = launchdPlist(spec({ workingDirectory: odd, entryScript: path.join(odd, 'switchyard.js') }));
    const plist = parsePlist(text) as Record<string, PlistValue>;
    assert.equal(plist.WorkingDirectory, odd);
    assert.deepEqual(installedProgram('launchd', text), [process.execPath, path.join(odd, 'switchyard.js')]);
    assert.throws(() => parsePlist(text.replace('</array>', '')), /expected|unknown plist element/);
  });

  test('plutil -lint or Python plistlib accept it, where present', (t) => {
    const file = path.join(tmp, 'switchyard.plist');
    writeFileSync(file, launchdPlist(spec({ workingDirectory: path.join(tmp, 'x & y') })));
    const plutil = spawnSync('plutil', ['-lint', file], { encoding: 'utf8' });
    if (!plutil.error) {
      assert.equal(plutil.status, 0, plutil.stdout + plutil.stderr);
      return;
    }
    const python = spawnSync('python3', ['-c', 'import plistlib,sys; d=plistlib.load(open(sys.argv[1],"rb")); assert d["KeepAlive"] is True; print(d["WorkingDirectory"])', file], { encoding: 'utf8' });
    if (python.error) return t.skip('neither plutil nor python3 is installed (the structural parser above still checks the XML)');
    assert.equal(python.status, 0, python.stderr);
    assert.equal(python.stdout.trim(), path.join(tmp, 'x & y'));
  });
});

describe('service manager helpers', () => {
  test('the spec keeps this node, this checkout and PATH (node first), and the non-secret variables', () => {
    const built = buildServiceSpec({
      name: 'switchyard',
      args: ['start'],
      root: '/opt/switchyard',
      cwd: '/srv/project',
      env: { HOME: '/home/u', PATH: '/usr/bin:/bin:/usr/bin', SWITCHYARD_ENV: 'production', ANTHROPIC_API_KEY: 'sk-ant-secret', SWITCHYARD_TOKEN: 'tok' },
      execPath: '/opt/node/bin/node',
    });
    assert.equal(built.entryScript, '/opt/switchyard/bin/switchyard.js');
    assert.equal(built.home, '/home/u/.switchyard');
    assert.equal(built.envFile, '/home/u/.switchyard/service.env');
    assert.deepEqual(built.environment, { PATH: '/opt/node/bin:/usr/bin:/bin', SWITCHYARD_ENV: 'production' });
    assert.doesNotMatch(systemdUnit(built), /sk-ant-secret|tok\b/);
  });

  test('service file locations', () => {
    assert.equal(serviceFilePath('systemd', 'switchyard', { HOME: '/home/u' }), '/home/u/.config/systemd/user/switchyard.service');
    assert.equal(serviceFilePath('systemd', 'sy', { HOME: '/home/u', XDG_CONFIG_HOME: '/cfg' }), '/cfg/systemd/user/sy.service');
    assert.equal(serviceFilePath('launchd', 'switchyard', { HOME: '/Users/u' }), '/Users/u/Library/LaunchAgents/switchyard.plist');
  });

  test('systemctl show and launchctl print are read', () => {
    assert.deepEqual(parseSystemctlShow('ActiveState=active\nSubState=running\nMainPID=42\n'), { ActiveState: 'active', SubState: 'running', MainPID: '42' });
    const printed = 'gui/501/switchyard = {\n\tactive count = 1\n\tstate = running\n\tpid = 4242\n\tlast exit code = 78: EX_CONFIG\n}';
    assert.deepEqual(parseLaunchctlPrint(printed), { state: 'running', pid: 4242 });
    assert.deepEqual(parseLaunchctlPrint('state = not running\nlast exit code = 78\n'), { state: 'not running', lastExitStatus: 78 });
  });
});

describe('switchyard service (the CLI)', () => {
  let home: string;
  let project: string;
  let userHome: string;
  before(() => {
    home = path.join(tmp, 'cli-home');
    project = path.join(tmp, 'cli-project');
    userHome = path.join(tmp, 'cli-user');
    for (const dir of [home, project, userHome]) mkdirSync(dir, { recursive: true });
  });

  async function run(args: string[], extraEnv: Record<string, string> = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
    const env: NodeJS.ProcessEnv = { ...process.env, SWITCHYARD_HOME: home, XDG_CONFIG_HOME: path.join(userHome, '.config'), ...extraEnv };
    for (const name of Object.keys(env)) if (name.startsWith('SWITCHYARD_') && !(name in extraEnv) && name !== 'SWITCHYARD_HOME') delete env[name];
    const child = spawn(process.execPath, switchyardArgv(...args), { cwd: project, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    return { code, stdout, stderr };
  }

  test('install --print shows the unit for this directory, home and flags, and installs nothing', async () => {
    const result = await run(['service', 'install', '--print', '--platform', 'systemd', '--port', '9123', '--env', 'NOTE=hello world']);
    assert.equal(result.code, 0, result.stderr);
    const service = section(result.stdout, 'Service');
    assert.ok(service.includes(`WorkingDirectory=${project}`));
    assert.ok(service.includes(`Environment="SWITCHYARD_HOME=${home}"`));
    assert.ok(service.includes('Environment="NOTE=hello world"'));
    assert.ok(service.includes(`EnvironmentFile=-${path.join(home, 'service.env')}`));
    assert.ok(service.includes(`ExecStart=${process.execPath} ${path.join(projectRoot(), 'bin', 'switchyard.js')} start --port 9123`));
    assert.ok(service.includes('RestartPreventExitStatus=78'));
    assert.deepEqual(readdirSync(home), [], 'no env file, no log dir');
    assert.equal(existsSync(path.join(userHome, '.config', 'systemd')), false);
  });

  test('install --print --platform launchd prints a plist', async () => {
    const result = await run(['service', 'install', '--print', '--platform', 'launchd']);
    assert.equal(result.code, 0, result.stderr);
    const plist = parsePlist(result.stdout) as Record<string, PlistValue>;
    assert.equal(plist.KeepAlive, true);
    assert.equal(plist.WorkingDirectory, project);
  });

  test('secrets never go into the file; an invalid config is refused with 78', async () => {
    const secret = await run(['service', 'install', '--print', '--set', 'gateway.auth.token=abcd1234']);
    assert.equal(secret.code, 2);
    assert.match(secret.stderr, /secret: put it in the env file/);
    assert.doesNotMatch(secret.stdout, /abcd1234/);
    const secretEnv = await run(['service', 'install', '--print', '--env', 'ANTHROPIC_API_KEY=sk-ant-x']);
    assert.equal(secretEnv.code, 2);
    assert.match(secretEnv.stderr, /ANTHROPIC_API_KEY looks like a secret/);
    const invalid = await run(['service', 'install', '--print', '--set', 'gateway.port=-1']);
    assert.equal(invalid.code, 78, invalid.stderr);
  });

  test('status of a service that is not installed exits 3', async () => {
    const result = await run(['service', 'status', '--platform', 'systemd', '--json']);
    assert.equal(result.code, 3, result.stderr);
    const status = JSON.parse(result.stdout);
    assert.equal(status.installed, false);
    assert.equal(status.file, path.join(userHome, '.config', 'systemd', 'user', 'switchyard.service'));
  });

  test('install without a systemd user session fails clearly and writes nothing', async (t) => {
    if (process.platform !== 'linux') return t.skip('systemd only');
    const problem = await systemdUserManagerProblem(runCommand);
    if (problem === undefined) return t.skip('this machine has a systemd user session: installing for real is not a test');
    const result = await run(['service', 'install']);
    assert.equal(result.code, 1);
    assert.match(result.stderr, /no systemd user session/);
    assert.match(result.stderr, /--print/);
    assert.equal(existsSync(path.join(userHome, '.config', 'systemd', 'user', 'switchyard.service')), false);
  });
});
