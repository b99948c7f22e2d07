import { expect } from 'chai';
import { KeyTable, hashName } from '../../src/keyspace/key-table.js';
import { Entry } from '../../src/keyspace/types.js';

/** The resident keys' table against a Map kept alongside: same lookups, same order, whatever the mix of operations. */

function entry(name: string): Entry {
  return new Entry(0, name, 'string', Buffer.from(name), 0, 1);
}

/** a deterministic generator (xorshift), so a failure names its seed */
function random(seed: number): () => number {
  let x = seed;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 2 ** 32;
  };
}

/** a table of entries k0, k1... set in that order */
function filled(n: number): { table: KeyTable; es: Entry[] } {
  const table = new KeyTable();
  const es = Array.from({ length: n }, (_, i) => entry(`k${i}`));
  for (const e of es) table.set(e.name, e);
  return { table, es };
}

function expectSame(table: KeyTable, model: Map<string, Entry>): void {
  expect(table.size).to.equal(model.size);
  expect([...table.values()].map((e) => e.name)).to.deep.equal([...model.keys()]);
  for (const [name, e] of model) expect(table.get(name)).to.equal(e);
}

describe('KeyTable', () => {
  for (const seed of [1, 7, 42, 2026]) {
    it(`agrees with a Map over random sets, deletes, touches and clears (seed ${seed})`, () => {
      const next = random(seed);
      const table = new KeyTable();
      const model = new Map<string, Entry>();
      // few distinct names: sets replace, deletes hit, probe runs collide and wrap
      const names = Array.from({ length: 3_000 }, (_, i) => (i % 7 === 0 ? `\u0000${i}\u00ff` : `key:${i}`));
      for (let step = 0; step < 60_000; step++) {
        const name = names[Math.floor(next() * names.length)]!;
        const r = next();
        if (r < 0.45) {
          const e = entry(name);
          model.delete(name); // a Map keeps a replaced key's place; the table makes it the newest
          model.set(name, e);
          table.set(name, e);
        } else if (r < 0.8) {
          expect(table.delete(name)).to.equal(model.delete(name));
        } else if (r < 0.9995) {
          const e = model.get(name);
          expect(table.get(name)).to.equal(e);
          expect(table.has(name)).to.equal(e !== undefined);
          if (e !== undefined && r < 0.95) {
            table.touch(e);
            model.delete(name);
            model.set(name, e);
          }
        } else {
          table.clear();
          model.clear();
        }
        if (step % 5_000 === 0) expectSame(table, model);
      }
      expectSame(table, model);
    });
  }

  it('grows to 400,000 names and shrinks back as they go', () => {
    const table = new KeyTable();
    const all: Entry[] = [];
    for (let i = 0; i < 400_000; i++) {
      const e = entry(`key:${String(i).padStart(12, '0')}`);
      all.push(e);
      table.set(e.name, e);
    }
    expect(table.size).to.equal(400_000);
    for (let i = 0; i < 400_000; i += 997) expect(table.get(all[i]!.name)).to.equal(all[i]);
    expect(table.get('key:absent')).to.equal(undefined);
    let deleted = 0;
    for (let i = 0; i < 399_990; i++) if (table.delete(all[i]!.name)) deleted++;
    expect(deleted).to.equal(399_990);
    expect([...table.values()]).to.deep.equal(all.slice(399_990));
    for (const e of all.slice(399_990)) expect(table.get(e.name)).to.equal(e);
  });

  it('goes on past the entry a walk deletes, as eviction does', () => {
    const { table } = filled(10);
    const seen: string[] = [];
    for (const e of table.values()) {
      seen.push(e.name);
      if (Number(e.name.slice(1)) % 2 === 0) table.delete(e.name);
      if (e.name === 'k3') table.delete('k4'); // one ahead of the walk: not visited
    }
    expect(seen).to.deep.equal(['k0', 'k1', 'k2', 'k3', 'k5', 'k6', 'k7', 'k8', 'k9']);
    expect([...table.values()].map((e) => e.name)).to.deep.equal(['k1', 'k3', 'k5', 'k7', 'k9']);
  });

  it('visits every entry once while a walk deletes them all (holes are not squeezed under a walk)', () => {
    const { table, es } = filled(1_000);
    const seen: Entry[] = [];
    for (const e of table.values()) {
      seen.push(e);
      table.delete(e.name);
    }
    expect(seen).to.deep.equal(es);
    expect(table.size).to.equal(0);
    const e = entry('again');
    table.set(e.name, e);
    expect([...table.values()]).to.deep.equal([e]);
  });

  it('refuses an entry that is in another table, and takes one set again as a no-op', () => {
    const a = new KeyTable();
    const b = new KeyTable();
    const e = entry('x');
    a.set('x', e);
    a.set('x', e);
    expect(a.size).to.equal(1);
    expect(() => b.set('x', e)).to.throw(/another table/);
    a.delete('x');
    b.set('x', e);
    expect(b.get('x')).to.equal(e);
  });

  it('hashes long names on a sample that keeps both ends, and never to 0', () => {
    const long = 'a'.repeat(200_000);
    expect(hashName(`${long}x`)).to.not.equal(hashName(`${long}y`));
    expect(hashName(`x${long}`)).to.not.equal(hashName(`y${long}`));
    const table = new KeyTable();
    const e1 = entry(`${long}1`);
    const e2 = entry(`${long}2`);
    table.set(e1.name, e1);
    table.set(e2.name, e2);
    expect(table.get(`${long}1`)).to.equal(e1);
    expect(table.get(`${long}2`)).to.equal(e2);
    for (let i = 0; i < 100_000; i++) expect(hashName(String(i))).to.not.equal(0);
  });
});
