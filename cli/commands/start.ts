// `switchyard start` (what `npm start` runs): the supervisor of the Temporal dev server,
// the worker and the API. Ctrl-C stops them in order; a second Ctrl-C kills them.
import { Command } from 'commander';
import { assertSafeBind } from '../../api/auth.js';
import { switchyardHome } from '../../config/paths.js';
import { runGateway } from '../../supervisor/gateway-supervisor.js';
import { InstanceLockError } from '../../supervisor/instance-lock.js';
import { CONFIG_EXIT_CODE } from '../../config/errors.js';
import { addConfigFlagOptions, configFlagArgv, configFlagOptions, loadConfigForCommand } from './config.js';

export function startCommand(): Command {
  const command = new Command('start').description('run the gateway: Temporal (embedded unless temporal.address is set), the worker and the API');
  addConfigFlagOptions(command);
  command.action(async (_options: unknown, self: Command) => {
    const { config } = loadConfigForCommand(self);
    try {
      assertSafeBind(config.gateway.bind, config.gateway.auth.token);
    } catch (error) {
      self.error(`switchyard: ${(error as Error).message}`, { exitCode: CONFIG_EXIT_CODE });
    }
    const flags = configFlagArgv(configFlagOptions(self));
    let handle;
    try {
      handle = await runGateway({ config, home: switchyardHome(), flags, log: (line) => console.log(line) });
    } catch (error) {
      if (error instanceof InstanceLockError) self.error(`switchyard: ${error.message}`, { exitCode: 1 });
      throw error;
    }
    const stop = () => void handle.stop();
    process.on('SIGINT', stop).on('SIGTERM', stop);
    handle.ready.catch(() => undefined);
    process.exit(await handle.done);
  });
  return command;
}
