import { stopPostgres, takeSeamViolations } from './harness.js';

/** Mocha root hooks: the shared PostgreSQL goes away with the run. */
export const mochaHooks = {
  /** A key changed without a report at the mutation seam fails the test that made it. */
  afterEach() {
    const lines = takeSeamViolations();
    if (lines.length > 0) throw new Error(`mutations not reported at the seam:\n${lines.join('\n')}`);
  },
  async afterAll(this: Mocha.Context) {
    this.timeout(60_000);
    await stopPostgres();
  },
};
