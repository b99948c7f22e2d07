import { expect } from 'chai';
import { allCommands } from '../../src/commands/index.js';
import { CommandTable, type Command } from '../../src/commands/table.js';
import { keysFromSpec } from '../../src/commands/spec-keys.js';
import { sampleArguments, type DocArgument } from '../support/sample-args.js';

/**
 * Dispatch finds a command's keys with its row (the legacy triple or
 * movableKeys; a keyRefs hook is left out here), COMMAND GETKEYS with Redis's key specs: on calls built from
 * each command's documented arguments, both must name the same arguments, or
 * a command would run without some of its keys resident.
 */
describe('command table: dispatch key positions agree with the key specs', () => {
  it('for every command Redis has, required and optional arguments alike', () => {
    const table = new CommandTable();
    table.register(allCommands);
    const commands: Command[] = [];
    for (const c of table.all()) commands.push(c, ...c.subcommands.values());
    const diffs: string[] = [];
    let compared = 0;
    for (const cmd of commands) {
      // a keyRefs hook (SORT's patterns, shard channels that are no keys) plans keys from the data, not from positions
      if (!cmd.spec || (!cmd.def.keys && !cmd.def.movableKeys) || cmd.def.keyRefs) continue;
      for (const full of [false, true]) {
        const argv = [...cmd.fullName.split('|'), ...sampleArguments((cmd.spec.docs.arguments ?? []) as DocArgument[], full)].map((a) => Buffer.from(a));
        if (!cmd.arityOk(argv.length)) continue;
        const bySpec = keysFromSpec(cmd.fullName, cmd.spec, argv, cmd.keyIndices(argv)).map((k) => k.pos);
        const byRow = cmd.keyIndices(argv);
        const norm = (xs: number[]) => [...new Set(xs)].sort((a, b) => a - b).join(',');
        if (norm(bySpec) !== norm(byRow)) diffs.push(`${argv.join(' ')}: specs [${norm(bySpec)}], dispatch [${norm(byRow)}]`);
        compared++;
      }
    }
    expect(compared).to.be.greaterThan(150);
    expect(diffs, diffs.join('\n')).to.deep.equal([]);
  });

  it('rows that give a key triple give Redis\'s', () => {
    const table = new CommandTable();
    table.register(allCommands);
    const differ: string[] = [];
    for (const c of table.all()) {
      for (const x of [c, ...c.subcommands.values()]) {
        const k = x.def.keys;
        if (!x.spec || !k || x.def.movableKeys) continue;
        const triple = [x.spec.first_key, x.spec.last_key, x.spec.step];
        if ([k.first, k.last, k.step].join() !== triple.join()) differ.push(`${x.fullName}: ${JSON.stringify(k)} vs ${triple.join()}`);
      }
    }
    expect(differ).to.deep.equal([]);
  });

  it('every command Redis has gets its arity and flags from the spec data', () => {
    const table = new CommandTable();
    table.register(allCommands);
    const get = table.lookup('get')!;
    expect(get.spec?.docs.group).to.equal('string');
    expect(get.def.flags).to.deep.equal(get.spec!.flags);
    const echo = table.lookup('echo')!;
    expect(echo.def.flags).to.include('loading');
    const getkeys = table.lookup('command')!.subcommands.get('getkeys')!;
    expect(getkeys.arity).to.equal(-4);
    const extension = table.lookup('client')!.subcommands.get('setinfo')!;
    expect(extension.spec).to.equal(undefined);
    expect(extension.categories.length).to.be.greaterThan(0);
  });

  it('a row of a command Redis has needs only a name and a handler; an extension must describe itself', () => {
    const table = new CommandTable();
    table.register([{ name: 'strlen', handler: () => 0 }]);
    const strlen = table.lookup('STRLEN')!;
    expect([strlen.arity, strlen.def.flags, strlen.def.group]).to.deep.equal([2, ['readonly', 'fast'], 'string']);
    expect(strlen.keyIndices(['strlen', 'k'].map((a) => Buffer.from(a)))).to.deep.equal([1]);
    expect(() => new CommandTable().register([{ name: 'talus-nosuch', handler: () => 0 }])).to.throw(/must give arity/);
  });
});
