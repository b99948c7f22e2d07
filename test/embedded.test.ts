import { expect } from 'chai';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startTalus, talusInfo, type TalusProcess } from './support/harness.js';
import { runKill9 } from '../bench/kill9.js';

/**
 * The embedded PostgreSQL (Talus's default storage): it starts from any
 * folder, whoever runs Talus, and Talus brings it back when it dies.
 */

const isRoot = process.getuid?.() === 0;

describe('embedded PostgreSQL', function () {
  this.timeout(180_000);

  // mkdtemp makes a mode-700 folder; unlike the harness's dirs it stays so
  const base = fs.mkdtempSync(path.join(os.tmpdir(), 'talus embedded '));
  let srv: TalusProcess | undefined;
  after(async () => {
    await srv?.stop();
    fs.rmSync(base, { recursive: true, force: true });
  });

  it('runs from a --dir below a mode-700 folder whose path has a space, over what an interrupted start left', async () => {
    expect(fs.statSync(base).mode & 0o777).to.equal(0o700);
    const dir = path.join(base, 'data dir');
    // what an interrupted first start used to leave: an empty pg (initdb could
    // not reach it), and a staging dir of an initdb cut short
    fs.mkdirSync(path.join(dir, 'pg'), { recursive: true, mode: 0o700 });
    fs.mkdirSync(path.join(dir, 'pg.init', 'base'), { recursive: true, mode: 0o700 });

    srv = await startTalus([], { embedded: true, dir });
    const c = srv.client();
    expect(await c.set('where', 'below a 700 folder')).to.equal('OK');
    expect(fs.existsSync(path.join(dir, 'pg.init'))).to.equal(false);
    expect(srv.output()).to.match(/removing .*pg\.init, left by an interrupted initialisation/);
    expect(srv.output()).to.match(/removing .*pg, left by an interrupted initialisation/);
    await srv.stop();

    srv = await startTalus([], { embedded: true, dir });
    expect(await srv.client().get('where')).to.equal('below a 700 folder');
    // and INFO shows the supervisor, with nothing to report yet
    const info = await talusInfo(srv.client());
    expect(info.embedded_pg_up).to.equal(1);
    expect(info.embedded_pg_restarts).to.equal(0);
    expect(await srv.client().info('talus')).to.include('embedded_pg_last_exit:none');
  });

  it('says in one line why it cannot start and what to do', async function () {
    // as root without user namespaces, PostgreSQL runs as the postgres user,
    // which cannot reach a data dir below a mode-700 folder
    if (!isRoot) this.skip();
    const dir = path.join(base, 'unreachable');
    let output = '';
    await startTalus(['--embedded-pg-user-namespace', 'no'], { embedded: true, dir }).then(
      (s) => s.stop().then(() => expect.fail('Talus started')),
      (err: Error) => (output = err.message),
    );
    const failures = output.split('\n').filter((l) => l.includes('failed to start'));
    expect(failures, output).to.have.length(1);
    expect(failures[0]).to.match(/cannot reach .*unreachable.* is mode 700\)\. Fix: /);
    expect(output).not.to.match(/at .*\.js:\d+/); // no stack trace
  });

  it('restarts a killed postmaster under a write load: writes succeed again by themselves, none acknowledged is lost', async () => {
    await srv?.stop();
    srv = undefined;
    const lines: string[] = [];
    const report = await runKill9({ rounds: 2, workers: 4, inflight: 16, target: 'postgres', log: (l) => lines.push(l) });
    console.log(lines.map((l) => `      ${l}`).join('\n'));
    expect(report.violations, report.violations.slice(0, 20).join('\n')).to.deep.equal([]);
    for (const r of report.rounds) {
      expect(r.recoveryMs, `round ${r.round}: no write acknowledged after the kill`).to.be.a('number');
      expect(r.pgRestarts, `round ${r.round}: INFO embedded_pg_restarts`).to.equal(1);
      expect(r.pgLastExit, `round ${r.round}: INFO embedded_pg_last_exit`).to.equal('SIGKILL');
      expect(r.ackedWrites).to.be.greaterThan(0);
    }
  });
});
