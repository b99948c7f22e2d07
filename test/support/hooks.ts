import { stopPostgres } from './harness.js';

/** Mocha root hooks: the shared PostgreSQL goes away with the run. */
export const mochaHooks = {
  async afterAll(this: Mocha.Context) {
    this.timeout(60_000);
    await stopPostgres();
  },
};
