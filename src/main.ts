#!/usr/bin/env node
import { loadConfig, helpText } from './config/load.js';
import { ConfigError } from './config/errors.js';
import { ConfigStore } from './config/store.js';
import { Talus } from './talus.js';
import { VERSION } from './version.js';

/** `talus [talus.conf] [--option value ...]`, like redis-server. */
async function main(argv: string[]): Promise<number> {
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
  const talus = new Talus(store);
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    talus.log.notice(`Received ${signal}, scheduling shutdown...`);
    talus.shutdown().then(
      () => process.exit(0),
      (err) => {
        talus.log.warning(`shutdown failed: ${err}`);
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
  talus.onShutdownRequest = () => stop('SHUTDOWN');
  try {
    await talus.start();
  } catch (err) {
    talus.log.warning(`failed to start: ${(err as Error).message}`);
    await talus.shutdown().catch(() => undefined);
    return 1;
  }
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
