import net from 'node:net';
import { encodeCommand, frameEnd, type Arg } from './differential.js';

/**
 * RESP3 replies parsed into trees that keep the wire types ioredis folds
 * away (map vs array, set vs array, status vs bulk), so that two servers'
 * replies can be compared type for type and differences named by path.
 */
export type RespValue =
  | null
  | string
  | number
  | RespValue[]
  | { simple: string }
  | { error: string }
  | { set: RespValue[] }
  | { map: Array<[RespValue, RespValue]> };

/** Parses the one complete frame at the start of `buf`. */
export function parseResp(buf: Buffer): RespValue {
  const [value] = parseAt(buf, 0);
  return value;
}

function parseAt(b: Buffer, at: number): [RespValue, number] {
  const eol = b.indexOf('\r\n', at);
  const type = String.fromCharCode(b[at]!);
  const head = b.toString('latin1', at + 1, eol);
  let pos = eol + 2;
  switch (type) {
    case '+': return [{ simple: head }, pos];
    case '-': return [{ error: head }, pos];
    case ':': return [Number(head), pos];
    case '_': return [null, pos];
    case '$': case '=': case '!': {
      const n = Number(head);
      if (n < 0) return [null, pos];
      return [b.toString('utf8', pos, pos + n), pos + n + 2];
    }
    case '*': case '~': case '>': {
      const n = Number(head);
      if (n < 0) return [null, pos];
      const items: RespValue[] = [];
      for (let i = 0; i < n; i++) {
        const [v, next] = parseAt(b, pos);
        items.push(v);
        pos = next;
      }
      return [type === '~' ? { set: items } : items, pos];
    }
    case '%': {
      const n = Number(head);
      const entries: Array<[RespValue, RespValue]> = [];
      for (let i = 0; i < n; i++) {
        const [k, afterKey] = parseAt(b, pos);
        const [v, afterValue] = parseAt(b, afterKey);
        entries.push([k, v]);
        pos = afterValue;
      }
      return [{ map: entries }, pos];
    }
    default:
      throw new Error(`unsupported RESP type ${JSON.stringify(type)}`);
  }
}

/** A RESP3 connection (HELLO 3 sent first) that sends one command at a time. */
export class Resp3Connection {
  private buf = Buffer.alloc(0);
  private waiting: ((frame: Buffer) => void) | null = null;

  private constructor(private readonly sock: net.Socket) {
    sock.on('data', (d: Buffer) => {
      this.buf = Buffer.concat([this.buf, d]);
      this.deliver();
    });
  }

  static async open(port: number): Promise<Resp3Connection> {
    const sock = net.connect({ port, host: '127.0.0.1' });
    await new Promise<void>((resolve, reject) => {
      sock.once('connect', resolve);
      sock.once('error', reject);
    });
    const conn = new Resp3Connection(sock);
    await conn.call(['HELLO', '3']);
    return conn;
  }

  call(args: Arg[]): Promise<RespValue> {
    return new Promise((resolve) => {
      this.waiting = (frame) => resolve(parseResp(frame));
      this.sock.write(encodeCommand(args));
      this.deliver();
    });
  }

  close(): void {
    this.sock.destroy();
  }

  private deliver(): void {
    if (!this.waiting) return;
    const end = frameEnd(this.buf, 0);
    if (end < 0) return;
    const frame = this.buf.subarray(0, end);
    this.buf = this.buf.subarray(end);
    const w = this.waiting;
    this.waiting = null;
    w(frame);
  }
}

/** A RESP3 tree as plain JSON: maps become objects, sets and arrays lists, status and bulk strings strings. */
export function plain(v: RespValue): unknown {
  if (v === null || typeof v === 'string' || typeof v === 'number') return v;
  if (Array.isArray(v)) return v.map(plain);
  if ('simple' in v) return v.simple;
  if ('set' in v) return v.set.map(plain);
  if ('map' in v) return Object.fromEntries(v.map.map(([k, val]) => [String(plain(k)), plain(val)]));
  throw new Error(`unexpected reply ${JSON.stringify(v)}`);
}

/** Every place where `actual` differs from `expected`, as `path: expected != actual` lines. */
export function diffResp(expected: RespValue, actual: RespValue, path = ''): string[] {
  const show = (v: RespValue) => JSON.stringify(v);
  if (Array.isArray(expected) && Array.isArray(actual)) {
    const out: string[] = [];
    for (let i = 0; i < Math.max(expected.length, actual.length); i++) {
      if (i >= expected.length) out.push(`${path}[${i}]: extra ${show(actual[i]!)}`);
      else if (i >= actual.length) out.push(`${path}[${i}]: missing ${show(expected[i]!)}`);
      else out.push(...diffResp(expected[i]!, actual[i]!, `${path}[${i}]`));
    }
    return out;
  }
  if (isMap(expected) && isMap(actual)) {
    const out: string[] = [];
    const keysOf = (m: Array<[RespValue, RespValue]>) => m.map(([k]) => show(k));
    if (keysOf(expected.map).join() !== keysOf(actual.map).join()) {
      out.push(`${path}: keys ${keysOf(expected.map).join(',')} != ${keysOf(actual.map).join(',')}`);
    }
    const actualByKey = new Map(actual.map.map(([k, v]) => [show(k), v]));
    for (const [k, v] of expected.map) {
      const other = actualByKey.get(show(k));
      if (other !== undefined) out.push(...diffResp(v, other, `${path}.${typeof k === 'string' ? k : show(k)}`));
    }
    return out;
  }
  if (isSet(expected) && isSet(actual)) {
    // Redis sends these in its table's order; Talus must too (clients may show them as lists)
    return show(expected) === show(actual) ? [] : [`${path}: ${show(expected)} != ${show(actual)}`];
  }
  return show(expected) === show(actual) ? [] : [`${path}: ${show(expected)} != ${show(actual)}`];
}

function isMap(v: RespValue): v is { map: Array<[RespValue, RespValue]> } {
  return v !== null && typeof v === 'object' && 'map' in v;
}

function isSet(v: RespValue): v is { set: RespValue[] } {
  return v !== null && typeof v === 'object' && 'set' in v;
}
