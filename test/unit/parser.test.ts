import { expect } from 'chai';
import { ProtocolError, RequestParser, type ParserLimits } from '../../src/protocol/parser.js';

const MB512 = 512 * 1024 * 1024;

function limits(over: Partial<ParserLimits> = {}): ParserLimits {
  return { maxBulkLen: MB512, maxQueryBuffer: 1024 * 1024 * 1024, ...over };
}

function strs(argv: Buffer[]): string[] {
  return argv.map((a) => a.toString('latin1'));
}

/** Feeds chunks, draining after each one; returns every command as strings. */
function parseChunks(chunks: Buffer[], lim = limits()): string[][] {
  const p = new RequestParser(lim);
  const out: string[][] = [];
  for (const c of chunks) {
    p.push(c);
    for (let argv = p.next(); argv !== null; argv = p.next()) out.push(strs(argv));
  }
  expect(p.pending).to.equal(0);
  return out;
}

function parseAll(input: string | Buffer, lim = limits()): string[][] {
  return parseChunks([typeof input === 'string' ? Buffer.from(input, 'latin1') : input], lim);
}

function parseError(input: string | Buffer, lim = limits()): string {
  const p = new RequestParser(lim);
  p.push(typeof input === 'string' ? Buffer.from(input, 'latin1') : input);
  try {
    while (p.next() !== null);
  } catch (err) {
    expect(err).to.be.instanceOf(ProtocolError);
    return (err as Error).message;
  }
  throw new Error('expected a ProtocolError');
}

function resp(...args: (string | Buffer)[]): Buffer {
  const parts: Buffer[] = [Buffer.from(`*${args.length}\r\n`)];
  for (const a of args) {
    const b = typeof a === 'string' ? Buffer.from(a, 'latin1') : a;
    parts.push(Buffer.from(`$${b.length}\r\n`), b, Buffer.from('\r\n'));
  }
  return Buffer.concat(parts);
}

describe('RequestParser', () => {
  describe('multibulk', () => {
    it('parses a command', () => {
      expect(parseAll('*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$5\r\nvalue\r\n')).to.deep.equal([['SET', 'k', 'value']]);
    });

    it('parses a pipeline in one chunk', () => {
      const input = Buffer.concat([resp('PING'), resp('SET', 'a', '1'), resp('GET', 'a'), resp('ECHO', '')]);
      expect(parseAll(input)).to.deep.equal([['PING'], ['SET', 'a', '1'], ['GET', 'a'], ['ECHO', '']]);
    });

    it('keeps binary data, including CRLF and NUL, inside bulks', () => {
      const bin = Buffer.from([0, 13, 10, 255, 42, 36, 13, 13, 10, 10]);
      const p = new RequestParser(limits());
      p.push(resp('SET', bin, '\r\n'));
      const argv = p.next()!;
      expect(argv[1].equals(bin)).to.equal(true);
      expect(argv[2].toString()).to.equal('\r\n');
    });

    it('skips *0 and *-1 (and other negative counts) without yielding a command', () => {
      expect(parseAll('*0\r\n*-1\r\n*-7\r\n*1\r\n$4\r\nPING\r\n')).to.deep.equal([['PING']]);
    });

    it('does not check the two bytes after bulk data (like Redis)', () => {
      expect(parseAll('*1\r\n$4\r\nPINGxx*1\r\n$1\r\na\r\n')).to.deep.equal([['PING'], ['a']]);
    });

    it('accepts a header line ending in CR plus any byte (Redis skips two bytes)', () => {
      expect(parseAll('*1\rX$4\r\nPING\r\n')).to.deep.equal([['PING']]);
    });

    it('accepts zero-length bulks', () => {
      expect(parseAll('*2\r\n$0\r\n\r\n$0\r\n\r\n')).to.deep.equal([['', '']]);
    });
  });

  describe('split points', () => {
    const samples: Buffer[] = [
      Buffer.concat([resp('SET', 'key', 'hello\r\nworld'), resp('GET', 'key')]),
      Buffer.from('PING\r\nset a "b c"\nECHO \'x y\'\r\n*1\r\n$4\r\nPING\r\n', 'latin1'),
      Buffer.concat([Buffer.from('*0\r\n*-1\r\n'), resp(''), Buffer.from('\r\n \r\n'), resp('a', 'bb', 'ccc')]),
    ];
    for (const [n, input] of samples.entries()) {
      const expected = parseAll(input);
      it(`sample ${n}: every 2-way split gives the same commands`, () => {
        for (let i = 0; i <= input.length; i++) {
          expect(parseChunks([input.subarray(0, i), input.subarray(i)]), `split at ${i}`).to.deep.equal(expected);
        }
      });
      it(`sample ${n}: byte-by-byte`, () => {
        const chunks: Buffer[] = [];
        for (let i = 0; i < input.length; i++) chunks.push(input.subarray(i, i + 1));
        expect(parseChunks(chunks)).to.deep.equal(expected);
      });
    }

    it('every 3-way split of a small pipeline', () => {
      const input = Buffer.concat([resp('A', 'bc'), Buffer.from('x "y"\r\n'), resp('D')]);
      const expected = parseAll(input);
      for (let i = 0; i <= input.length; i++) {
        for (let j = i; j <= input.length; j++) {
          const got = parseChunks([input.subarray(0, i), input.subarray(i, j), input.subarray(j)]);
          expect(got, `split at ${i},${j}`).to.deep.equal(expected);
        }
      }
    });

    it('random pipelines (small and big args, inline) under random chunking', () => {
      let seed = 42;
      const rnd = (n: number) => {
        seed = (seed * 1103515245 + 12345) & 0x7fffffff;
        return seed % n;
      };
      for (let round = 0; round < 30; round++) {
        const expected: string[][] = [];
        const parts: Buffer[] = [];
        for (let c = 0; c < 40; c++) {
          if (rnd(5) === 0) {
            parts.push(Buffer.from(`ECHO x${c} "y z"\r\n`));
            expected.push(['ECHO', `x${c}`, 'y z']);
            continue;
          }
          const args: Buffer[] = [];
          for (let a = rnd(4) + 1; a > 0; a--) {
            const len = rnd(10) === 0 ? 32 * 1024 + rnd(70000) : rnd(50);
            const arg = Buffer.alloc(len);
            for (let i = 0; i < len; i += 97) arg[i] = rnd(256);
            args.push(arg);
          }
          parts.push(resp(...args));
          expected.push(args.map((a) => a.toString('latin1')));
        }
        const input = Buffer.concat(parts);
        const chunks: Buffer[] = [];
        for (let i = 0; i < input.length; ) {
          const n = rnd(4) === 0 ? rnd(8) + 1 : rnd(20000) + 1;
          chunks.push(input.subarray(i, i + n));
          i += n;
        }
        expect(parseChunks(chunks)).to.deep.equal(expected);
      }
    });

    it('works when the caller pushes several chunks before draining', () => {
      const input = Buffer.concat([resp('SET', 'k', 'v'), resp('GET', 'k'), Buffer.from('PING\r\n')]);
      const p = new RequestParser(limits());
      for (let i = 0; i < input.length; i += 5) p.push(input.subarray(i, i + 5));
      const out: string[][] = [];
      for (let a = p.next(); a !== null; a = p.next()) out.push(strs(a));
      expect(out).to.deep.equal([['SET', 'k', 'v'], ['GET', 'k'], ['PING']]);
    });

    it('returned arguments are not overwritten by later pushes', () => {
      const p = new RequestParser(limits());
      const input = Buffer.concat([resp('SET', 'first', 'value1'), resp('SET', 'second', 'value2'), resp('X')]);
      const kept: Buffer[][] = [];
      for (let i = 0; i < input.length; i += 7) {
        p.push(Buffer.from(input.subarray(i, i + 7)));
        for (let a = p.next(); a !== null; a = p.next()) kept.push(a);
      }
      expect(kept.map(strs)).to.deep.equal([['SET', 'first', 'value1'], ['SET', 'second', 'value2'], ['X']]);
    });
  });

  describe('large arguments', () => {
    it('assembles a big bulk from many chunks, then continues with the same chunk', () => {
      const big = Buffer.alloc(1024 * 1024);
      for (let i = 0; i < big.length; i++) big[i] = (i * 7) & 0xff;
      const input = Buffer.concat([resp('SET', 'k', big), resp('GET', 'k')]);
      const p = new RequestParser(limits());
      const out: Buffer[][] = [];
      for (let i = 0; i < input.length; i += 1000) {
        p.push(input.subarray(i, i + 1000));
        expect(p.pending).to.be.at.most(big.length + 2 + 1000);
        for (let a = p.next(); a !== null; a = p.next()) out.push(a);
      }
      expect(out.length).to.equal(2);
      expect(out[0][2].equals(big)).to.equal(true);
      expect(strs(out[1])).to.deep.equal(['GET', 'k']);
      expect(p.pending).to.equal(0);
    });

    it('a bulk of 1 MB or more gets its own buffer once a quarter arrived: same bytes under any chunking, CRLF split included', () => {
      let seed = 7;
      const rnd = (n: number) => {
        seed = (seed * 1103515245 + 12345) & 0x7fffffff;
        return seed % n;
      };
      for (const size of [1 << 20, (1 << 20) + 1, 3 * (1 << 20) + 7]) {
        const big = Buffer.alloc(size);
        for (let i = 0; i < size; i += 13) big[i] = rnd(256);
        const input = Buffer.concat([resp('SET', 'k', big), resp('GET', 'k')]);
        for (const sizes of [[65536], [1, 65535, 3], [size + 30, 1], [size / 4 + 40, 2, 2]]) {
          const p = new RequestParser(limits());
          const out: Buffer[][] = [];
          for (let i = 0, k = 0; i < input.length; k++) {
            const n = Math.floor(sizes[k % sizes.length]! + rnd(3));
            // a copy: the socket's chunk is not kept
            p.push(Buffer.from(input.subarray(i, i + n)));
            i += n;
            for (let a = p.next(); a !== null; a = p.next()) out.push(a);
          }
          expect(out.length, `size ${size}, chunks ${sizes}`).to.equal(2);
          expect(out[0][2].equals(big), `size ${size}, chunks ${sizes}`).to.equal(true);
          expect(strs(out[1])).to.deep.equal(['GET', 'k']);
          expect(p.pending).to.equal(0);
        }
      }
    });

    it('big bulk at every split point around its boundaries', () => {
      const big = Buffer.alloc(40000, 'x');
      const input = Buffer.concat([resp('SET', big), resp('A')]);
      const expected = [['SET', big.toString('latin1')], ['A']];
      const cuts = [0, 1, 10, 12, 13, 14, 40000, 40010, 40012, 40013, 40014, 40015, 40016, input.length - 1];
      for (const c of cuts) {
        for (const d of [c, c + 1, c + 2, 40014, 40015, input.length]) {
          if (d < c || d > input.length) continue;
          const got = parseChunks([input.subarray(0, c), input.subarray(c, d), input.subarray(d)]);
          expect(got, `cuts ${c},${d}`).to.deep.equal(expected);
        }
      }
    });

    it('does not allocate from a huge declared length', () => {
      const p = new RequestParser(limits({ maxBulkLen: 4 * 1024 * 1024 * 1024 }));
      const before = process.memoryUsage().arrayBuffers;
      p.push(Buffer.from('*1\r\n$2000000000\r\nabc'));
      expect(p.next()).to.equal(null);
      expect(p.pending).to.equal(3);
      expect(process.memoryUsage().arrayBuffers - before).to.be.below(64 * 1024 * 1024);
      for (let i = 0; i < 20; i++) p.push(Buffer.alloc(1024, 1));
      expect(p.next()).to.equal(null);
      expect(p.pending).to.equal(3 + 20 * 1024);
    });

    it('does not preallocate argv from a huge multibulk count', () => {
      const p = new RequestParser(limits());
      p.push(Buffer.from('*2147483647\r\n$1\r\na\r\n'));
      expect(p.next()).to.equal(null);
    });

    it('rejects a declared length over maxBulkLen immediately, and honours live limit changes', () => {
      expect(parseError('*1\r\n$2000000000\r\n')).to.equal('ERR Protocol error: invalid bulk length');
      const lim = limits({ maxBulkLen: 10 });
      expect(parseAll('*1\r\n$10\r\n0123456789\r\n', lim)).to.deep.equal([['0123456789']]);
      expect(parseError('*1\r\n$11\r\n', lim)).to.equal('ERR Protocol error: invalid bulk length');
      const p = new RequestParser(limits({ maxBulkLen: 10 }));
      p.limits.maxBulkLen = 100;
      p.push(Buffer.from('*1\r\n$50\r\n' + 'x'.repeat(50) + '\r\n'));
      expect(p.next()!.length).to.equal(1);
    });
  });

  describe('errors', () => {
    const mb = 'ERR Protocol error: invalid multibulk length';
    it('invalid multibulk length', () => {
      for (const h of ['*abc', '*', '*+1', '*01', '*-0', '*1 ', '* 1', '*2147483648', '*99999999999999999999', '*1.5']) {
        expect(parseError(h + '\r\n'), h).to.equal(mb);
      }
      expect(parseAll('*2147483647\r\n').length).to.equal(0); // INT_MAX itself is accepted
      expect(parseError('*11\r\n', limits({ maxMultibulkLen: 10 }))).to.equal(mb);
    });

    it("expected '$', got 'X'", () => {
      expect(parseError('*1\r\n+OK\r\n')).to.equal("ERR Protocol error: expected '$', got '+'");
      expect(parseError('*2\r\n$1\r\na\r\nX1\r\n')).to.equal("ERR Protocol error: expected '$', got 'X'");
    });

    it('invalid bulk length', () => {
      for (const h of ['$-1', '$abc', '$', '$+1', '$01', '$-0', '$1x', '$99999999999999999999']) {
        expect(parseError(`*1\r\n${h}\r\n`), h).to.equal('ERR Protocol error: invalid bulk length');
      }
    });

    it('too big mult bulk count string', () => {
      const p = new RequestParser(limits());
      p.push(Buffer.from('*' + '1'.repeat(64 * 1024 - 1)));
      expect(p.next()).to.equal(null); // exactly 64KB buffered: still waiting
      p.push(Buffer.from('1'));
      expect(() => p.next()).to.throw(ProtocolError, 'ERR Protocol error: too big mult bulk count string');
    });

    it('too big bulk count string', () => {
      expect(parseError('*1\r\n$' + '1'.repeat(70000))).to.equal('ERR Protocol error: too big bulk count string');
    });

    it('too big inline request', () => {
      const p = new RequestParser(limits());
      p.push(Buffer.alloc(64 * 1024, 'a'));
      expect(p.next()).to.equal(null);
      p.push(Buffer.from('a'));
      expect(() => p.next()).to.throw(ProtocolError, 'ERR Protocol error: too big inline request');
    });

    it('a long inline line is fine when its newline arrives in the same chunk', () => {
      const arg = 'x'.repeat(100 * 1024);
      expect(parseAll(`SET k ${arg}\r\n`)).to.deep.equal([['SET', 'k', arg]]);
    });

    it('unbalanced quotes', () => {
      for (const line of ['SET "a', "SET 'a", 'SET "a"b', "SET 'a'b", 'SET "a\\"', 'SET "\\x4"x']) {
        expect(parseError(line + '\r\n'), line).to.equal('ERR Protocol error: unbalanced quotes in request');
      }
    });

    it('detects a header split across many small pushes without rescanning forever', () => {
      const p = new RequestParser(limits());
      p.push(Buffer.from('*'));
      for (let i = 0; i < 20000; i++) {
        p.push(Buffer.from('1'));
        expect(p.next()).to.equal(null);
      }
      expect(p.pending).to.equal(20001);
    });
  });

  describe('inline', () => {
    it('splits on spaces and tabs, accepts LF or CRLF', () => {
      expect(parseAll('SET  a\tb \r\nGET a\nPING\r\n')).to.deep.equal([['SET', 'a', 'b'], ['GET', 'a'], ['PING']]);
    });

    it('yields [] for an empty or blank line', () => {
      expect(parseAll('\r\n\n   \r\nPING\n')).to.deep.equal([[], [], [], ['PING']]);
    });

    it('double quotes with escapes', () => {
      expect(parseAll('SET "a b" "\\x41\\x7a\\n\\r\\t\\b\\a\\\\\\"\\q"\r\n')).to.deep.equal([
        ['SET', 'a b', 'Az\n\r\t\b\x07\\"q'],
      ]);
      // \x with fewer than two hex digits is just "x"
      expect(parseAll('ECHO "\\x4g"\n')).to.deep.equal([['ECHO', 'x4g']]);
      expect(parseAll('ECHO "\\xFF\\x00"\n')).to.deep.equal([['ECHO', '\xff\x00']]);
    });

    it("single quotes with \\' escape only", () => {
      expect(parseAll("SET 'it\\'s' 'a\\nb'\n")).to.deep.equal([['SET', "it's", 'a\\nb']]);
    });

    it('quotes may start mid-token; empty quoted strings are arguments', () => {
      expect(parseAll('SET ab"c d" "" \'\'\n')).to.deep.equal([['SET', 'abc d', '', '']]);
    });

    it('closing quote may be followed by any C whitespace', () => {
      expect(parseAll('ECHO "a"\tb\n')).to.deep.equal([['ECHO', 'a', 'b']]);
      expect(parseAll('ECHO "a"\x0bb\n')).to.deep.equal([['ECHO', 'a', 'b']]);
    });

    it('vertical tab and form feed do not end a bare token (sdssplitargs)', () => {
      expect(parseAll('ECHO a\x0bb\n')).to.deep.equal([['ECHO', 'a\x0bb']]);
    });

    it('a NUL byte ends the inline line content, like a C string', () => {
      expect(parseAll('ECHO a\x00 b c\n')).to.deep.equal([['ECHO', 'a']]);
    });

    it('a bare CR inside the line separates arguments', () => {
      expect(parseAll('ECHO a\rb\r\n')).to.deep.equal([['ECHO', 'a', 'b']]);
    });

    it('mixes inline and multibulk', () => {
      expect(parseAll(Buffer.concat([Buffer.from('PING\r\n'), resp('GET', 'x'), Buffer.from('QUIT\n')]))).to.deep.equal([
        ['PING'],
        ['GET', 'x'],
        ['QUIT'],
      ]);
    });
  });

  describe('memory', () => {
    it('stays bounded over a long-lived connection with misaligned chunks', () => {
      const p = new RequestParser(limits());
      const cmd = resp('SET', 'key:000123', 'v'.repeat(200));
      const stream = Buffer.concat(Array.from({ length: 50 }, () => cmd));
      let count = 0;
      for (let round = 0; round < 200; round++) {
        for (let i = 0; i < stream.length; i += 997) {
          p.push(Buffer.from(stream.subarray(i, i + 997)));
          for (let a = p.next(); a !== null; a = p.next()) count++;
          expect(p.pending).to.be.below(cmd.length + 997);
        }
      }
      expect(count).to.equal(50 * 200);
      const store = (p as unknown as { store: Buffer | null }).store;
      expect(store === null || store.length <= 128 * 1024).to.equal(true);
    });

    it('pending counts unconsumed bytes and overQueryBufferLimit follows it', () => {
      const p = new RequestParser(limits({ maxQueryBuffer: 10 }));
      p.push(Buffer.from('*1\r\n$4\r\nPI'));
      expect(p.next()).to.equal(null);
      expect(p.pending).to.equal(2);
      expect(p.overQueryBufferLimit).to.equal(false);
      p.push(Buffer.from('NG\r\n*1\r\n$3\r\n'));
      expect(p.pending).to.equal(14);
      expect(p.overQueryBufferLimit).to.equal(true);
      expect(strs(p.next()!)).to.deep.equal(['PING']);
      expect(p.pending).to.equal(8);
    });
  });

  it('shares a repeated command name between requests, never a view of the socket chunk', () => {
    const p = new RequestParser(limits());
    const chunk = Buffer.from('*3\r\n$3\r\nSET\r\n$1\r\na\r\n$1\r\nb\r\n*2\r\n$3\r\nSET\r\n$1\r\nc\r\n*1\r\n$4\r\nPING\r\n*2\r\n$3\r\nset\r\n$1\r\nd\r\n', 'latin1');
    p.push(chunk);
    const [a, b, c, d] = [p.next()!, p.next()!, p.next()!, p.next()!];
    expect(a[0]).to.equal(b[0]);
    expect([c[0], d[0]]).to.not.include(a[0]);
    chunk.fill(0x21); // what the socket delivered is rewritten: the names are the parser's own
    expect([a, b, c, d].map((argv) => argv[0]!.toString())).to.deep.equal(['SET', 'SET', 'PING', 'set']);
  });
});
