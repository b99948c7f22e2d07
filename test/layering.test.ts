/**
 * The layers of src/ (docs/architecture.md, rules in .dependency-cruiser.cjs),
 * checked with dependency-cruiser: on the TypeScript sources for the layer
 * rules (type-only imports count), and on the built JavaScript for runtime
 * import cycles.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import { repoRoot } from '../src/config/print-conf.js';

const root = repoRoot();
const depcruise = path.join(root, 'node_modules', '.bin', 'depcruise');
const config = path.join(root, '.dependency-cruiser.cjs');

/** depcruise's verdict on `targets` (relative to `cwd`): exit status and what it printed. */
function cruise(cwd: string, targets: string[]): { status: number; output: string } {
  try {
    const output = execFileSync(depcruise, [...targets, '--config', config, '--output-type', 'err'], { cwd, encoding: 'utf8' });
    return { status: 0, output };
  } catch (err) {
    const e = err as { status: number; stdout: string; stderr: string };
    return { status: e.status, output: `${e.stdout}${e.stderr}` };
  }
}

describe('layering', function () {
  this.timeout(120_000);

  it('src/ keeps its layers: commands see no server, only storage speaks SQL, keyspace below storage', () => {
    const r = cruise(root, ['src']);
    expect(r.status, r.output).to.equal(0);
    expect(r.output).to.match(/no dependency violations found \((\d+) modules/);
    // the cruise really read the tree (a parser that read nothing would also find nothing)
    expect(Number(/\((\d+) modules/.exec(r.output)![1])).to.be.greaterThan(60);
  });

  it('no runtime import cycles in the built JavaScript', () => {
    const r = cruise(root, ['dist/src']);
    expect(r.status, r.output).to.equal(0);
    expect(Number(/\((\d+) modules/.exec(r.output)![1])).to.be.greaterThan(60);
  });

  it('the rules catch what they forbid', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'talus-layers-'));
    try {
      const file = (name: string, text: string) => {
        fs.mkdirSync(path.dirname(path.join(dir, name)), { recursive: true });
        fs.writeFileSync(path.join(dir, name), text);
      };
      file('src/server/client.ts', 'export const x = 1;\n');
      file('src/commands/bad.ts', "import { x } from '../server/client.js';\nexport const y = x;\n");
      file('src/keyspace/bad.ts', "import { sql } from 'kysely';\nexport const z = sql;\n");
      fs.symlinkSync(path.join(root, 'node_modules'), path.join(dir, 'node_modules'));
      const r = cruise(dir, ['src']);
      expect(r.status).to.not.equal(0);
      expect(r.output).to.include('commands-see-no-server: src/commands/bad.ts');
      expect(r.output).to.include('only-storage-speaks-sql: src/keyspace/bad.ts');
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
