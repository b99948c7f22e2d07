import { expect } from 'chai';
import { encodedBulks, encodeReply, formatDouble, ReplyWriter } from '../../src/protocol/encoder.js';
import {
  BoolReply,
  DoubleReply,
  ErrorReply,
  MapReply,
  NULL_ARRAY,
  OK,
  PushReply,
  RawReply,
  SetReply,
  SimpleString,
  VerbatimReply,
  type Reply,
} from '../../src/protocol/reply.js';

function enc(r: Reply, proto: 2 | 3): string {
  return encodeReply(r, proto).toString('latin1');
}

function both(r: Reply): [string, string] {
  return [enc(r, 2), enc(r, 3)];
}

describe('encoder', () => {
  describe('encodeReply', () => {
    it('null', () => {
      expect(both(null)).to.deep.equal(['$-1\r\n', '_\r\n']);
    });

    it('NullArray', () => {
      expect(both(NULL_ARRAY)).to.deep.equal(['*-1\r\n', '_\r\n']);
    });

    it('integers (number and bigint)', () => {
      expect(both(0)).to.deep.equal([':0\r\n', ':0\r\n']);
      expect(enc(-0, 2)).to.equal(':0\r\n');
      expect(enc(7, 2)).to.equal(':7\r\n');
      expect(enc(-42, 3)).to.equal(':-42\r\n');
      expect(enc(1234567890123, 2)).to.equal(':1234567890123\r\n');
      expect(enc(Number.MAX_SAFE_INTEGER, 2)).to.equal(':9007199254740991\r\n');
      expect(enc(Number.MIN_SAFE_INTEGER, 2)).to.equal(':-9007199254740991\r\n');
      expect(enc(2 ** 60, 2)).to.equal(':1152921504606846976\r\n');
      expect(enc(9223372036854775807n, 2)).to.equal(':9223372036854775807\r\n');
      expect(enc(-9223372036854775808n, 3)).to.equal(':-9223372036854775808\r\n');
    });

    it('a non-integer number is a bug and throws', () => {
      expect(() => encodeReply(1.5, 2)).to.throw(TypeError);
      expect(() => encodeReply(NaN, 2)).to.throw(TypeError);
      expect(() => encodeReply(Infinity, 3)).to.throw(TypeError);
    });

    it('bulk strings, binary safe', () => {
      expect(both(Buffer.from('hello'))).to.deep.equal(['$5\r\nhello\r\n', '$5\r\nhello\r\n']);
      expect(enc(Buffer.alloc(0), 2)).to.equal('$0\r\n\r\n');
      expect(enc(Buffer.from([0, 13, 10, 255]), 2)).to.equal('$4\r\n\x00\r\n\xff\r\n');
    });

    it('simple strings and errors, with CR/LF replaced by spaces', () => {
      expect(both(OK)).to.deep.equal(['+OK\r\n', '+OK\r\n']);
      expect(enc(new SimpleString('a\r\nb'), 2)).to.equal('+a  b\r\n');
      expect(enc(new ErrorReply('ERR bad\r\nthing'), 3)).to.equal('-ERR bad  thing\r\n');
      expect(enc(new ErrorReply(''), 2)).to.equal('-\r\n');
    });

    it('non-ASCII text is UTF-8 encoded', () => {
      expect(encodeReply(new ErrorReply("ERR unknown command 'héllo\n€'"), 2).toString('utf8')).to.equal(
        "-ERR unknown command 'héllo €'\r\n",
      );
      expect(encodeReply(new SimpleString('ünïcode'), 3).toString('utf8')).to.equal('+ünïcode\r\n');
    });

    it('errors made of raw bytes go out as those bytes, CR/LF turned into spaces', () => {
      const raw = Buffer.from([0x45, 0x52, 0x52, 0x20, 0xff, 0x0d, 0x0a, 0xce, 0xa9]);
      expect(encodeReply(ErrorReply.fromBytes(raw), 2)).to.deep.equal(Buffer.from([0x2d, 0x45, 0x52, 0x52, 0x20, 0xff, 0x20, 0x20, 0xce, 0xa9, 0x0d, 0x0a]));
    });

    it('arrays, nested and empty', () => {
      expect(enc([], 2)).to.equal('*0\r\n');
      expect(enc([Buffer.from('a'), 1, null, [OK]], 2)).to.equal('*4\r\n$1\r\na\r\n:1\r\n$-1\r\n*1\r\n+OK\r\n');
      expect(enc([Buffer.from('a'), 1, null, [OK]], 3)).to.equal('*4\r\n$1\r\na\r\n:1\r\n_\r\n*1\r\n+OK\r\n');
    });

    it('doubles', () => {
      expect(both(new DoubleReply(1.5))).to.deep.equal(['$3\r\n1.5\r\n', ',1.5\r\n']);
      expect(both(new DoubleReply(0.1))).to.deep.equal(['$19\r\n0.10000000000000001\r\n', ',0.10000000000000001\r\n']);
      expect(both(new DoubleReply(Infinity))).to.deep.equal(['$3\r\ninf\r\n', ',inf\r\n']);
      expect(both(new DoubleReply(-Infinity))).to.deep.equal(['$4\r\n-inf\r\n', ',-inf\r\n']);
      expect(both(new DoubleReply(NaN))).to.deep.equal(['$3\r\nnan\r\n', ',nan\r\n']);
      expect(enc(new DoubleReply(10), 3)).to.equal(',10\r\n');
    });

    it('maps: RESP3 % and RESP2 flat array', () => {
      const m = new MapReply([
        [Buffer.from('a'), 1],
        [Buffer.from('b'), new MapReply([])],
      ]);
      expect(enc(m, 3)).to.equal('%2\r\n$1\r\na\r\n:1\r\n$1\r\nb\r\n%0\r\n');
      expect(enc(m, 2)).to.equal('*4\r\n$1\r\na\r\n:1\r\n$1\r\nb\r\n*0\r\n');
    });

    it('sets, booleans, pushes', () => {
      expect(both(new SetReply([Buffer.from('x')]))).to.deep.equal(['*1\r\n$1\r\nx\r\n', '~1\r\n$1\r\nx\r\n']);
      expect(both(new BoolReply(true))).to.deep.equal([':1\r\n', '#t\r\n']);
      expect(both(new BoolReply(false))).to.deep.equal([':0\r\n', '#f\r\n']);
      const push = new PushReply([Buffer.from('message'), Buffer.from('ch'), Buffer.from('hi')]);
      expect(enc(push, 3)).to.equal('>3\r\n$7\r\nmessage\r\n$2\r\nch\r\n$2\r\nhi\r\n');
      expect(enc(push, 2)).to.equal('*3\r\n$7\r\nmessage\r\n$2\r\nch\r\n$2\r\nhi\r\n');
    });

    it('verbatim strings', () => {
      const v = new VerbatimReply('txt', 'Some string');
      expect(both(v)).to.deep.equal(['$11\r\nSome string\r\n', '=15\r\ntxt:Some string\r\n']);
      expect(enc(new VerbatimReply('txt', Buffer.from('a\r\nb')), 3)).to.equal('=8\r\ntxt:a\r\nb\r\n');
      expect(encodeReply(new VerbatimReply('txt', 'é'), 3).toString('utf8')).to.equal('=6\r\ntxt:é\r\n');
    });

    it('raw replies are written as is', () => {
      expect(both(new RawReply(Buffer.from('+PONG\r\n')))).to.deep.equal(['+PONG\r\n', '+PONG\r\n']);
    });

    it('rejects things that are not replies', () => {
      expect(() => encodeReply('str' as unknown as Reply, 2)).to.throw(TypeError);
      expect(() => encodeReply({} as unknown as Reply, 2)).to.throw(TypeError);
    });
  });

  describe('ReplyWriter', () => {
    it('concatenates replies until take(), then resets', () => {
      const w = new ReplyWriter();
      expect(w.take()).to.equal(null);
      expect(w.length).to.equal(0);
      w.write(OK, 2);
      w.write(1, 2);
      expect(w.length).to.equal(9);
      expect(w.take()!.toString()).to.equal('+OK\r\n:1\r\n');
      expect(w.length).to.equal(0);
      expect(w.take()).to.equal(null);
      w.write(null, 3);
      expect(w.take()!.toString()).to.equal('_\r\n');
    });

    it('a taken buffer is never overwritten by later writes', () => {
      const w = new ReplyWriter();
      const taken: [Buffer, string][] = [];
      for (let i = 0; i < 5000; i++) {
        w.write([Buffer.from(`value-${i}`), i], i % 2 === 0 ? 2 : 3);
        const expected = `*2\r\n$${`value-${i}`.length}\r\nvalue-${i}\r\n:${i}\r\n`;
        taken.push([w.take()!, expected]);
      }
      for (const [buf, expected] of taken) expect(buf.toString()).to.equal(expected);
    });

    it('passes large bulks through without copying', () => {
      const w = new ReplyWriter();
      const big = Buffer.alloc(100_000, 'z');
      w.write([Buffer.from('k'), big, Buffer.from('after')], 2);
      const chunks = w.takeChunks();
      expect(chunks.some((c) => c === big)).to.equal(true);
      const all = Buffer.concat(chunks).toString('latin1');
      expect(all).to.equal(`*3\r\n$1\r\nk\r\n$100000\r\n${'z'.repeat(100_000)}\r\n$5\r\nafter\r\n`);
      w.write(new RawReply(big), 3);
      expect(w.takeChunks()[0]).to.equal(big);
    });

    it('take() concatenates chunks including large bulks', () => {
      const w = new ReplyWriter();
      const big = Buffer.alloc(20_000, 'q');
      w.write(OK, 2);
      w.write(big, 2);
      w.write(OK, 2);
      expect(w.length).to.equal(5 + 8 + 20_000 + 2 + 5);
      expect(w.take()!.toString()).to.equal(`+OK\r\n$20000\r\n${'q'.repeat(20_000)}\r\n+OK\r\n`);
    });

    it('handles many small replies across block boundaries', () => {
      const w = new ReplyWriter();
      let expected = '';
      for (let i = 0; i < 20000; i++) {
        w.write(i, 2);
        expected += `:${i}\r\n`;
      }
      expect(w.take()!.toString()).to.equal(expected);
    });

    it('write() is atomic when a reply is invalid', () => {
      const w = new ReplyWriter();
      w.write(OK, 2);
      const bad: Reply = [Buffer.alloc(70_000, 'a'), Buffer.from('x'.repeat(9000)), 0.5];
      expect(() => w.write(bad, 2)).to.throw(TypeError);
      w.write(1, 2);
      expect(w.take()!.toString()).to.equal('+OK\r\n:1\r\n');
    });

    it('writeThrough() hands the block range to a synchronous write and reuses what it took', () => {
      const w = new ReplyWriter();
      const sent: string[] = [];
      const writeAll = (block: Buffer, offset: number, length: number) => {
        sent.push(block.toString('latin1', offset, offset + length));
        return length;
      };
      expect(w.writeThrough(writeAll)).to.equal(0); // nothing written yet
      w.write(OK, 2);
      expect(w.writeThrough(writeAll)).to.equal(5);
      expect(w.length).to.equal(0);
      w.write(1, 2);
      expect(w.writeThrough(writeAll)).to.equal(4);
      expect(sent).to.deep.equal(['+OK\r\n', ':1\r\n']);
      // a partial write leaves the rest for take(), which a later write must not overwrite
      w.write(Buffer.from('abcdef'), 2);
      expect(w.writeThrough(() => 3)).to.equal(3);
      expect(w.length).to.equal(9);
      const rest = w.take()!;
      expect(rest.toString()).to.equal('\nabcdef\r\n'); // after '$6\r'
      w.write(Buffer.from('zzzzzzzzzzzz'), 2);
      expect(rest.toString()).to.equal('\nabcdef\r\n');
      expect(w.writeThrough(() => 0)).to.equal(0);
      expect(w.take()!.toString()).to.equal('$12\r\nzzzzzzzzzzzz\r\n');
    });

    it('writeThrough() leaves output holding a big bulk to take()', () => {
      const w = new ReplyWriter();
      w.write(Buffer.alloc(20_000, 'q'), 2);
      expect(w.writeThrough(() => expect.fail('no write of chunked output'))).to.equal(0);
      expect(w.take()!.length).to.equal(8 + 20_000 + 2);
    });

    it('clear() drops unsent bytes', () => {
      const w = new ReplyWriter();
      w.write(OK, 2);
      w.clear();
      expect(w.length).to.equal(0);
      expect(w.take()).to.equal(null);
    });
  });

  describe('formatDouble (%.17g)', () => {
    const cases: Array<[number, string]> = [
      [0, '0'],
      [-0, '-0'],
      [1, '1'],
      [10, '10'],
      [-3, '-3'],
      [1.5, '1.5'],
      [0.1, '0.10000000000000001'],
      [-0.1, '-0.10000000000000001'],
      [0.5, '0.5'],
      [3.14, '3.1400000000000001'],
      [123.456, '123.456'],
      [1e16, '10000000000000000'],
      [1e17, '1e+17'],
      [1e20, '1e+20'],
      [1e21, '1e+21'],
      [2 ** 56, '72057594037927936'],
      [123456789012345678, '1.2345678901234568e+17'],
      [0.0001, '0.0001'],
      [0.00001, '1.0000000000000001e-05'],
      [1e-5, '1.0000000000000001e-05'],
      [1.7976931348623157e308, '1.7976931348623157e+308'],
      [5e-324, '4.9406564584124654e-324'],
      [1e100, '1e+100'],
      [Infinity, 'inf'],
      [-Infinity, '-inf'],
      [NaN, 'nan'],
      // Exact halfway cases: printf rounds half to even, V8's toExponential does not.
      [2 ** -25, '2.9802322387695312e-08'],
      [3 * 2 ** -26, '4.4703483581542969e-08'],
    ];
    for (const [n, s] of cases) {
      it(`${n} -> ${s}`, () => {
        expect(formatDouble(n)).to.equal(s);
      });
    }
  });
  describe('encodedBulks', () => {
    // binary-safe latin1 strings and Buffers of every length class, as collections hold them
    const strings = ['', 'a', 'f\xff\r\n', 'x'.repeat(9), 'y'.repeat(10), 'z'.repeat(1000), '\x00\x80'];
    const buffers = strings.map((t) => Buffer.from(t, 'latin1'));
    const latin = (t: string) => Buffer.from(t, 'latin1');
    it('encodes arrays, sets and maps as the same replies built item by item would be', () => {
      for (const proto of [2, 3] as const) {
        expect(encodedBulks('array', strings, proto).bytes.toString('latin1'), `array RESP${proto}`).to.equal(enc(strings.map(latin), proto));
        expect(encodedBulks('set', buffers, proto).bytes.toString('latin1'), `set RESP${proto}`).to.equal(enc(new SetReply(buffers), proto));
        const items = strings.flatMap((t, i) => [t, buffers[(i + 1) % buffers.length]!]);
        const entries = strings.map((t, i): [Reply, Reply] => [latin(t), buffers[(i + 1) % buffers.length]!]);
        expect(encodedBulks('map', items, proto).bytes.toString('latin1'), `map RESP${proto}`).to.equal(enc(new MapReply(entries), proto));
      }
      expect(encodedBulks('array', [], 2).bytes.toString('latin1')).to.equal('*0\r\n');
    });
  });
});
