// Hot reload of `channels`: the API watches the config files it loaded from (every layer's
// candidate, so that a file created later counts too), loads the whole config again when one
// changes, and hands the new `channels` section to the ChannelManager, which restarts only the
// adapters whose config changed. An invalid config is refused with the error logged, and the
// running channels keep their config. Other sections are not reloaded: they need a restart.
import { watch, type FSWatcher } from 'node:fs';
import path from 'node:path';
import { Command } from 'commander';
import type { Logger } from 'pino';
import { addConfigFlagOptions, configFlagOptions, flagLayerFromOptions } from '../cli/commands/config.js';
import { isConfigError } from '../config/errors.js';
import { configFileCandidates, loadConfig, type LoadedConfig } from '../config/load.js';
import { canonicalJson, type ApplyResult, type ChannelManager } from './manager.js';

export type ReloadOutcome = { status: 'applied'; result: ApplyResult } | { status: 'refused'; error: string };

export interface ChannelConfigWatcherOptions {
  manager: ChannelManager;
  /** Loads the config the way the API did at start (same cwd, env and flags); throws ConfigError when invalid. */
  load: () => LoadedConfig;
  /** The files to watch: every config file candidate, existing or not. */
  files: readonly string[];
  logger: Logger;
  /** Quiet time after the last change before reloading (editors write in several steps). Default 300 ms. */
  debounceMs?: number;
  /** The sections other than channels as loaded at start, to warn that a change there needs a restart. */
  initial?: LoadedConfig['config'];
}

export class ChannelConfigWatcher {
  private readonly watchers: FSWatcher[] = [];
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<ReloadOutcome> | undefined;
  private again = false;
  private others: string | undefined;

  constructor(private readonly options: ChannelConfigWatcherOptions) {
    if (options.initial) this.others = othersOf(options.initial);
  }

  /** Starts watching the files' directories (a missing directory is skipped). */
  start(): this {
    const byDir = new Map<string, Set<string>>();
    for (const file of this.options.files) {
      const dir = path.dirname(file);
      if (!byDir.has(dir)) byDir.set(dir, new Set());
      byDir.get(dir)!.add(path.basename(file));
    }
    for (const [dir, names] of byDir) {
      try {
        // The directory, not the file: editors replace files by renaming, and a file may appear later.
        const watcher = watch(dir, { persistent: false }, (_event, filename) => {
          if (filename === null || names.has(filename.toString())) this.schedule();
        });
        watcher.on('error', () => undefined);
        this.watchers.push(watcher);
      } catch {
        // the directory does not exist (no user config dir): nothing to watch there
      }
    }
    return this;
  }

  close(): void {
    clearTimeout(this.timer);
    for (const watcher of this.watchers) watcher.close();
    this.watchers.length = 0;
  }

  /** Reloads now; concurrent calls run one after the other (a change during a reload reloads again). */
  async reload(): Promise<ReloadOutcome> {
    if (this.running) {
      this.again = true;
      return this.running;
    }
    this.running = this.reloadOnce().finally(() => {
      this.running = undefined;
      if (this.again) {
        this.again = false;
        void this.reload();
      }
    });
    return this.running;
  }

  private schedule(): void {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.reload(), this.options.debounceMs ?? 300);
    this.timer.unref();
  }

  private async reloadOnce(): Promise<ReloadOutcome> {
    const { logger } = this.options;
    let loaded: LoadedConfig;
    try {
      loaded = this.options.load();
    } catch (error) {
      const message = isConfigError(error) ? error.message : (error as Error).message;
      logger.error({ error: message }, 'config reload refused: the new config is invalid; the channels keep running with the previous one');
      return { status: 'refused', error: message };
    }
    const others = othersOf(loaded.config);
    if (this.others !== undefined && others !== this.others) {
      logger.warn('config changed outside `channels`: only channels are reloaded; restart the gateway for the rest');
    }
    this.others = others;
    const result = await this.options.manager.apply(loaded.config.channels);
    return { status: 'applied', result };
  }
}

function othersOf(config: LoadedConfig['config']): string {
  const { channels: _channels, ...rest } = config;
  return canonicalJson(rest);
}

/**
 * The API process's watcher: the same flags (from argv), cwd and environment as the load at
 * start, the same file candidates.
 */
export function watchChannelConfig(manager: ChannelManager, logger: Logger, initial: LoadedConfig, argv: string[] = process.argv): ChannelConfigWatcher {
  const command = addConfigFlagOptions(new Command('switchyard-api'));
  command.parse(argv);
  const { flags, flagSources } = flagLayerFromOptions(configFlagOptions(command));
  return new ChannelConfigWatcher({
    manager,
    logger,
    load: () => loadConfig({ flags, flagSources }),
    files: configFileCandidates().map((candidate) => candidate.file),
    initial: initial.config,
  }).start();
}
