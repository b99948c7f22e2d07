import { expect } from 'chai';
import { Keyspace } from '../../src/keyspace/keyspace.js';
import { Changelog } from '../../src/replication/changelog.js';
import type { Mutation } from '../../src/keyspace/events.js';

describe('the mutation seam (Keyspace.report)', () => {
  const setup = () => {
    const ks = new Keyspace(2, new Changelog(0));
    ks.setEpoch(1);
    const seen: Mutation[] = [];
    ks.mutationListeners.push((m) => seen.push(m));
    return { ks, seen, db: ks.dbs[0]! };
  };

  it('a change without a report is caught; a reported one is not', () => {
    const { ks, db } = setup();
    ks.create(db, 'a', 'string', Buffer.from('1'), 1);
    ks.create(db, 'b', 'string', Buffer.from('2'), 1);
    ks.report(0, 'a', 'set', ['SET', 'a', '1']);
    expect(ks.takeUnreported().map((e) => e.name)).to.deep.equal(['b']);
    expect(ks.stats.unreported).to.equal(1);
    // the next round starts clean
    expect(ks.takeUnreported()).to.have.length(0);
  });

  it('logs the effect once, in the effect db, and tells every listener', () => {
    const { ks, seen, db } = setup();
    ks.create(db, 'k', 'string', Buffer.from('v'), 1);
    ks.report(1, 'k', 'copy_to', ['COPY', 'k', 'k', 'DB', '1'], 0);
    ks.report(0, 'k', 'set');
    expect(ks.changelog.seq).to.equal(1);
    const pending = ks.changelog.take().records;
    expect(pending).to.have.length(1);
    expect(pending[0]!.db).to.equal(0);
    expect(seen.map((m) => `${m.db}:${m.key}:${m.event}`)).to.deep.equal(['0:k:new', '1:k:copy_to', '0:k:set']);
  });

  it('expiry reports itself with a DEL effect and the expired event', () => {
    const { ks, seen, db } = setup();
    const e = ks.create(db, 'x', 'string', Buffer.from('v'), 1, Date.now() - 1);
    ks.report(0, 'x', 'set');
    ks.takeUnreported();
    expect(ks.lookup(db, 'x')).to.equal(undefined);
    expect(e.type).to.equal(null);
    expect(ks.takeUnreported()).to.have.length(0);
    expect(seen.at(-1)).to.deep.include({ key: 'x', event: 'expired' });
    expect(ks.changelog.take().records.at(-1)!.effect.toString()).to.equal('*2\r\n$3\r\nDEL\r\n$1\r\nx\r\n');
  });
});
