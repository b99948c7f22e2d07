import { expect } from 'chai';
import { KeyFilter, nameHash } from '../../src/keyspace/key-filter.js';
import { Keyspace } from '../../src/keyspace/keyspace.js';
import { Changelog } from '../../src/replication/changelog.js';

/** A small deterministic generator, so that a failure can be replayed. */
function random(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

describe('KeyFilter (the names a db Map surely lacks)', () => {
  it('never says absent for a name the Map holds, through adds, removes and growth', () => {
    const map = new Map<string, number>();
    const filter = new KeyFilter();
    const next = random(7);
    for (let step = 0; step < 60_000; step++) {
      const name = `key:${Math.floor(next() * 20_000)}`;
      if (next() < 0.65) {
        if (!map.has(name)) {
          map.set(name, step);
          filter.added(name, map);
        }
      } else if (map.delete(name)) {
        filter.removed(name);
      }
      if (step % 5000 === 0) for (const held of map.keys()) expect(filter.mayHold(held), held).to.equal(true);
    }
    for (const held of map.keys()) expect(filter.mayHold(held), held).to.equal(true);
    // and it answers most misses itself (4 to 8 slots per name)
    let passed = 0;
    for (let i = 0; i < 10_000; i++) if (filter.mayHold(`other:${i}`)) passed++;
    expect(passed).to.be.below(3000);
  });

  it('a slot counted up to 255 stays set, however many of its names leave', () => {
    // 256 names in one slot of the first array (1024 slots: no growth below 257 names)
    const slot = new Map<number, string[]>();
    let names: string[] | undefined;
    for (let i = 0; names === undefined; i++) {
      const name = `n${i}`;
      const s = nameHash(name) & 1023;
      const list = slot.get(s) ?? [];
      list.push(name);
      slot.set(s, list);
      if (list.length === 256) names = list;
    }
    const map = new Map<string, number>();
    const filter = new KeyFilter();
    for (const name of names) {
      map.set(name, 0);
      filter.added(name, map);
    }
    for (const name of names.slice(1)) {
      map.delete(name);
      filter.removed(name);
    }
    expect(filter.mayHold(names[0]!)).to.equal(true);
    // below saturation the count is exact: the last name out clears the slot
    const other = new KeyFilter();
    const small = new Map<string, number>();
    for (const name of names.slice(0, 3)) {
      small.set(name, 0);
      other.added(name, small);
    }
    for (const name of names.slice(0, 3)) {
      small.delete(name);
      other.removed(name);
    }
    expect(other.mayHold(names[0]!)).to.equal(false);
  });

  it('hashes a long name by its ends and length, the same each time', () => {
    const long = 'a'.repeat(70) + 'x'.repeat(1000) + 'b'.repeat(70);
    expect(nameHash(long)).to.equal(nameHash(long.slice(0)));
    expect(nameHash(long)).to.not.equal(nameHash(long + 'c'));
  });

  it('Keyspace lookups answer as the Map does across create, delete, evict, flush, swap and promote', () => {
    const ks = new Keyspace(2, new Changelog(0));
    ks.setEpoch(1);
    const next = random(11);
    const check = () => {
      for (const db of ks.dbs) {
        for (let i = 0; i < 3000; i++) {
          const name = `k${i}`;
          expect(ks.entryOf(db, name), `${db.index} ${name}`).to.equal(db.entries.get(name));
        }
      }
    };
    for (let round = 0; round < 6; round++) {
      for (let i = 0; i < 2000; i++) {
        const db = ks.dbs[next() < 0.7 ? 0 : 1]!;
        const name = `k${Math.floor(next() * 3000)}`;
        const e = ks.entryOf(db, name);
        if (next() < 0.7) ks.create(db, name, 'string', Buffer.from('v'), 1);
        else if (e !== undefined && e.type !== null) ks.remove(db, e);
        else if (e !== undefined) ks.promote(db, e);
      }
      check();
      // eviction takes clean entries out of the Map
      for (const db of ks.dbs) for (const e of db.entries.values()) e.flushedVersion = e.version;
      ks.evict(Math.floor(ks.bytes / 2), () => false);
      check();
      if (round === 2) ks.swapDb(ks.dbs[0]!, ks.dbs[1]!, 1);
      if (round === 4) ks.flushDb(ks.dbs[1]!, 2);
      check();
    }
  });
});
