import net from 'node:net';

/**
 * A bare RESP client for asserting exact reply bytes (RESP3 types ioredis
 * does not surface): sends the commands in order on one connection and
 * returns each reply's raw frame.
 */
export async function rawReplies(port: number, commands: Array<Array<string | Buffer>>): Promise<Buffer[]> {
  const sock = net.connect({ port, host: '127.0.0.1' });
  await new Promise<void>((resolve, reject) => {
    sock.once('connect', resolve);
    sock.once('error', reject);
  });
  try {
    let buf = Buffer.alloc(0);
    const out: Buffer[] = [];
    const done = new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`timed out; got ${out.length} of ${commands.length} replies`)), 10_000);
      sock.on('data', (d: Buffer) => {
        buf = Buffer.concat([buf, d]);
        for (;;) {
          const end = frameEnd(buf, 0);
          if (end < 0) break;
          out.push(buf.subarray(0, end));
          buf = buf.subarray(end);
        }
        if (out.length >= commands.length) {
          clearTimeout(timer);
          resolve();
        }
      });
      sock.on('error', reject);
    });
    for (const cmd of commands) sock.write(encode(cmd));
    await done;
    return out;
  } finally {
    sock.destroy();
  }
}

function encode(args: Array<string | Buffer>): Buffer {
  const parts: Buffer[] = [Buffer.from(`*${args.length}\r\n`)];
  for (const a of args) {
    const b = typeof a === 'string' ? Buffer.from(a) : a;
    parts.push(Buffer.from(`$${b.length}\r\n`), b, Buffer.from('\r\n'));
  }
  return Buffer.concat(parts);
}

/** End offset of the RESP2/RESP3 frame starting at `at`, or -1 if incomplete. */
function frameEnd(b: Buffer, at: number): number {
  if (at >= b.length) return -1;
  const nl = b.indexOf('\r\n', at);
  if (nl < 0) return -1;
  const type = String.fromCharCode(b[at]!);
  const line = b.toString('latin1', at + 1, nl);
  let pos = nl + 2;
  switch (type) {
    case '$':
    case '=':
    case '!': {
      const n = Number(line);
      if (n < 0) return pos;
      return b.length >= pos + n + 2 ? pos + n + 2 : -1;
    }
    case '*':
    case '~':
    case '>':
    case '%':
    case '|': {
      const n = Number(line);
      if (n < 0) return pos;
      const items = type === '%' || type === '|' ? n * 2 : n;
      for (let i = 0; i < items; i++) {
        pos = frameEnd(b, pos);
        if (pos < 0) return -1;
      }
      return type === '|' ? frameEnd(b, pos) : pos;
    }
    default:
      return pos;
  }
}
