/**
 * Reads one encoded reply back into the reply model: the few handlers that
 * answer pre-encoded bytes (RawReply) give scripts the same values as any
 * other reply.
 */
import { BoolReply, DoubleReply, ErrorReply, MapReply, NULL_ARRAY, SetReply, SimpleString, VerbatimReply, type Reply } from '../protocol/reply.js';

export function readReply(bytes: Buffer): Reply {
  let pos = 0;
  const line = (): string => {
    const end = bytes.indexOf('\r\n', pos, 'latin1');
    const s = bytes.toString('latin1', pos, end);
    pos = end + 2;
    return s;
  };
  const one = (): Reply => {
    const kind = String.fromCharCode(bytes[pos++]!);
    const head = line();
    switch (kind) {
      case '+': return new SimpleString(head);
      case '-': return new ErrorReply(head);
      case ':': return Number(head);
      case '(': return Buffer.from(head, 'latin1');
      case ',': return new DoubleReply(Number(head));
      case '#': return new BoolReply(head === 't');
      case '_': return null;
      case '$':
      case '=': {
        const n = Number(head);
        if (n < 0) return null;
        const body = bytes.subarray(pos, pos + n);
        pos += n + 2;
        return kind === '=' ? new VerbatimReply(body.toString('latin1', 0, 3), body.subarray(4)) : Buffer.from(body);
      }
      case '*':
      case '~':
      case '>': {
        const n = Number(head);
        if (n < 0) return NULL_ARRAY;
        const items: Reply[] = [];
        for (let i = 0; i < n; i++) items.push(one());
        return kind === '~' ? new SetReply(items) : items;
      }
      case '%': {
        const entries: Array<[Reply, Reply]> = [];
        for (let i = Number(head); i > 0; i--) entries.push([one(), one()]);
        return new MapReply(entries);
      }
      case '|': {
        for (let i = Number(head); i > 0; i--) { one(); one(); } // attributes: not part of the value
        return one();
      }
      default: return new ErrorReply(`ERR unreadable reply type ${kind}`);
    }
  };
  if (bytes.length === 0) return null;
  const first = one();
  if (pos >= bytes.length) return first;
  // several replies in one (a subscribe inside a transaction): an array of them
  const all = [first];
  while (pos < bytes.length) all.push(one());
  return all;
}
