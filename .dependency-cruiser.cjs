/**
 * The layers of src/ (docs/architecture.md), checked by test/layering.test.ts:
 *   npx depcruise src --config .dependency-cruiser.cjs              (every import, type-only ones too)
 *   npx depcruise dist/src --config .dependency-cruiser.cjs --validate  (runtime cycles, on the built JS)
 */
module.exports = {
  forbidden: [
    {
      name: 'commands-see-no-server',
      comment: 'Handlers get a CommandContext (src/execution/context.ts): never the server, a socket or PostgreSQL.',
      severity: 'error',
      from: { path: '^src/commands/' },
      to: { path: '^src/(server|storage)/|^src/(talus|main)\\.ts$' },
    },
    {
      name: 'only-storage-speaks-sql',
      comment: 'pg and kysely are imported by src/storage only.',
      severity: 'error',
      from: { path: '^src/', pathNot: '^src/storage/' },
      to: { path: '(^|/)node_modules/(pg|kysely|@types/pg)/' },
    },
    {
      name: 'keyspace-below-storage',
      comment: 'The keyspace holds no SQL and knows nothing of PostgreSQL; storage builds on it.',
      severity: 'error',
      from: { path: '^src/keyspace/' },
      to: { path: '^src/(storage|server|execution|commands)/|^src/talus\\.ts$' },
    },
    {
      name: 'execution-below-server',
      comment: 'The executor runs sessions; connections (src/server) build on it, not the reverse.',
      severity: 'error',
      from: { path: '^src/execution/' },
      to: { path: '^src/server/|^src/(talus|main)\\.ts$' },
    },
    {
      name: 'no-runtime-cycles',
      comment: 'No module reaches itself through runtime imports (checked on the built JavaScript, where type-only imports are gone).',
      severity: 'error',
      from: { path: '^dist/src/' },
      to: { circular: true },
    },
  ],
  options: {
    parser: 'swc',
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '\\.d\\.ts$' },
  },
};
