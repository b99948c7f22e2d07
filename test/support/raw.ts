import net from 'node:net';

/**
 * A raw RESP connection for tests that need the wire: pipelining in one
 * write, inline commands, malformed input, replies suppressed or pushed.
 */
/** Replies as the raw-socket tests see them. */
export type RespValue = string | number | bigint | boolean | null | Error | RespValue[] | Map<RespValue, RespValue>;

/** Parse one RESP2/RESP3 reply at `pos`; undefined if incomplete. */
export function parseResp(buf: Buffer, pos: number): [RespValue, number] | undefined {
  const nl = buf.indexOf('\r\n', pos);
  if (nl < 0) return undefined;
  const type = String.fromCharCode(buf[pos]!);
  const line = buf.toString('latin1', pos + 1, nl);
  const next = nl + 2;
  const agg = (n: number, at: number): [RespValue[], number] | undefined => {
    const out: RespValue[] = [];
    let p = at;
    for (let i = 0; i < n; i++) {
      const r = parseResp(buf, p);
      if (!r) return undefined;
      out.push(r[0]);
      p = r[1];
    }
    return [out, p];
  };
  switch (type) {
    case '+': return [line, next];
    case '-': return [new Error(line), next];
    case ':': return [Number(line), next];
    case '_': return [null, next];
    case '#': return [line === 't', next];
    case ',': return [Number(line), next];
    case '$': case '=': {
      const n = Number(line);
      if (n < 0) return [null, next];
      if (buf.length < next + n + 2) return undefined;
      const s = buf.toString('latin1', next, next + n);
      return [type === '=' ? s.slice(4) : s, next + n + 2];
    }
    case '*': case '~': case '>': {
      const n = Number(line);
      if (n < 0) return [null, next];
      return agg(n, next);
    }
    case '%': {
      const r = agg(Number(line) * 2, next);
      if (!r) return undefined;
      const m = new Map<RespValue, RespValue>();
      for (let i = 0; i < r[0].length; i += 2) m.set(r[0][i]!, r[0][i + 1]!);
      return [m, r[1]];
    }
    default: throw new Error(`bad RESP type ${JSON.stringify(type)} in ${JSON.stringify(buf.toString('latin1', pos, pos + 40))}`);
  }
}

/** A plain TCP connection speaking raw RESP. */
export class Raw {
  private buf = Buffer.alloc(0);
  private pos = 0;
  closed = false;
  private wake: (() => void) | undefined;
  private constructor(readonly sock: net.Socket) {
    sock.on('data', (d) => {
      this.buf = Buffer.concat([this.buf.subarray(this.pos), d]);
      this.pos = 0;
      this.wake?.();
    });
    sock.on('close', () => {
      this.closed = true;
      this.wake?.();
    });
    sock.on('error', () => undefined);
  }

  static open(port: number): Promise<Raw> {
    return new Promise((resolve, reject) => {
      const s = net.connect(port, '127.0.0.1', () => resolve(new Raw(s)));
      s.once('error', reject);
    });
  }

  write(data: string | Buffer): void {
    this.sock.write(data);
  }

  /** Send a command as a RESP multibulk. */
  send(...args: string[]): void {
    this.write(`*${args.length}\r\n` + args.map((a) => `$${Buffer.byteLength(a)}\r\n${a}\r\n`).join(''));
  }

  async replies(n: number, timeoutMs = 5000): Promise<RespValue[]> {
    const out: RespValue[] = [];
    const deadline = Date.now() + timeoutMs;
    while (out.length < n) {
      const r = this.pos < this.buf.length ? parseResp(this.buf, this.pos) : undefined;
      if (r) {
        out.push(r[0]);
        this.pos = r[1];
        continue;
      }
      if (this.closed) throw new Error(`connection closed after ${out.length} of ${n} replies`);
      if (Date.now() > deadline) throw new Error(`timeout after ${out.length} of ${n} replies`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, Math.max(1, deadline - Date.now()));
        this.wake = () => {
          clearTimeout(t);
          resolve();
        };
      });
    }
    return out;
  }

  async reply(timeoutMs?: number): Promise<RespValue> {
    return (await this.replies(1, timeoutMs))[0]!;
  }

  /** Bytes received and not parsed yet. */
  unread(): string {
    return this.buf.toString('latin1', this.pos);
  }

  /** Resolves true if nothing arrives for `ms`. */
  async silent(ms: number): Promise<boolean> {
    await new Promise((r) => setTimeout(r, ms));
    return this.pos >= this.buf.length;
  }

  async waitClosed(timeoutMs = 5000): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    while (!this.closed && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    return this.closed;
  }

  close(): void {
    this.sock.destroy();
  }
}
