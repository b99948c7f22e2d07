import { expect } from 'chai';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Logger } from '../../src/observability/logger.js';

/** The log: pino JSON away from a terminal (here a file), Redis-style lines when asked, levels from loglevel. */
describe('logger', () => {
  let dir: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'talus-log-'));
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('writes one JSON object per line to a file (auto), with Redis level names and the same message text', () => {
    const file = path.join(dir, 'talus.log');
    const log = new Logger('verbose', file);
    log.debug('not shown at verbose');
    log.verbose('a verbose line');
    log.notice('Ready to accept connections on 127.0.0.1 port 9221');
    log.level = 'warning';
    log.notice('not shown at warning');
    log.warning('a "quoted" warning');
    log.close();
    const lines = fs.readFileSync(file, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines.map((l) => [l['level'], l['msg']])).to.deep.equal([
      ['verbose', 'a verbose line'],
      ['notice', 'Ready to accept connections on 127.0.0.1 port 9221'],
      ['warning', 'a "quoted" warning'],
    ]);
    expect(lines[0]!['pid']).to.equal(process.pid);
    expect(lines[0]!['time']).to.match(/^\d{4}-\d\d-\d\dT/);
  });

  it('writes Redis-style lines with log-format redis', () => {
    const file = path.join(dir, 'talus.log');
    const log = new Logger('notice', file, 'redis');
    log.notice('Ready to accept connections');
    log.warning('careful');
    log.verbose('hidden');
    log.close();
    const lines = fs.readFileSync(file, 'utf8').trim().split('\n');
    expect(lines).to.have.length(2);
    expect(lines[0]).to.match(new RegExp(`^${process.pid}:M \\d+ [A-Z][a-z]{2} \\d{4} \\d\\d:\\d\\d:\\d\\d\\.\\d{3} \\* Ready to accept connections$`));
    expect(lines[1]).to.match(/ # careful$/);
  });
});
