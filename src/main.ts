#!/usr/bin/env node
import { loadConfig, helpText } from './config/load.js';
import { ConfigError } from './config/errors.js';
import { ConfigStore } from './config/store.js';
import { Talus } from './talus.js';
import { VERSION } from './version.js';
import { withholdPreload } from './util/allocator.js';
import {
  isDaemonChild,
  pidfilePath,
  removePidfile,
  reportDaemonReady,
  signalShutdownRefusal,
  startDaemon,
  writePidfile,
} from './server/process.js';

/** `talus [talus.conf] [--option value ...]`, like redis-server; `talus restore|backup ...` for backups. */
async function main(argv: string[]): Promise<number> {
  withholdPreload();
  if (argv[0] === 'restore' || argv[0] === 'backup') {
    // talus restore / talus backup ... (docs/backup.md)
    const { runBackupCli } = await import('./backup/cli.js');
    return runBackupCli(argv);
  }
  if (argv.includes('--help') || argv.includes('-h')) {
    process.stdout.write(helpText());
    return 0;
  }
  if (argv.includes('--version') || argv.includes('-v')) {
    process.stdout.write(`Talus v=${VERSION.talus} redis=${VERSION.redis} node=${process.version}\n`);
    return 0;
  }
  let store: ConfigStore;
  try {
    store = ConfigStore.from(loadConfig({ argv, env: process.env }));
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`*** FATAL CONFIG ERROR (Talus ${VERSION.talus}) ***\n${err.message}\n`);
      return 1;
    }
    throw err;
  }
  const v = store.values;
  if (v.daemonize && !isDaemonChild()) return startDaemon(v.logfile);
  let talus: Talus;
  try {
    talus = new Talus(store);
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`*** FATAL CONFIG ERROR (Talus ${VERSION.talus}) ***\n${err.message}\n`);
      return 1;
    }
    throw err;
  }
  // Redis's first lines, so that operators find the start in the log as they are used to
  talus.log.notice('oO0OoO0OoO0Oo Talus is starting oO0OoO0OoO0Oo');
  talus.log.notice(`Talus version=${VERSION.talus}, redis=${VERSION.redis}, node=${process.version}, pid=${process.pid}, just started`);
  talus.log.notice(store.configFile ? `Configuration loaded from ${store.configFile}` : 'Configuration loaded (no config file given)');
  const pidfile = pidfilePath(v);
  let stopping = false;
  const stop = (reason: string) => {
    if (stopping) return;
    if (reason === 'SIGTERM' || reason === 'SIGINT') {
      const flags = reason === 'SIGTERM' ? v.shutdownOnSigterm : v.shutdownOnSigint;
      const refusal = signalShutdownRefusal(reason, flags, talus.flusher?.healthy ?? true);
      if (refusal !== undefined) {
        talus.log.warning(refusal);
        return;
      }
    }
    stopping = true;
    talus.log.notice(`Received ${reason}, scheduling shutdown...`);
    talus.shutdown().then(
      () => {
        if (pidfile) removePidfile(pidfile);
        process.exit(0);
      },
      (err) => {
        talus.log.warning(`shutdown failed: ${err}`);
        if (pidfile) removePidfile(pidfile);
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
  talus.onShutdownRequest = () => stop('SHUTDOWN');
  try {
    if (pidfile) {
      try {
        writePidfile(pidfile);
      } catch (err) {
        // as in Redis: a pidfile that cannot be written is not fatal
        talus.log.warning(`Failed to write PID file: ${(err as Error).message}`);
      }
    }
    await talus.start();
  } catch (err) {
    talus.log.warning(`failed to start: ${(err as Error).message}`);
    await talus.shutdown().catch(() => undefined);
    if (pidfile) removePidfile(pidfile);
    return 1;
  }
  if (isDaemonChild()) reportDaemonReady();
  return -1; // keep running
}

main(process.argv.slice(2)).then(
  (code) => {
    if (code >= 0) process.exit(code);
  },
  (err) => {
    process.stderr.write(`fatal: ${err?.stack ?? err}\n`);
    process.exit(1);
  },
);
