/**
 * The reply model: what a command handler returns. It is protocol-neutral;
 * the encoder turns it into RESP2 or RESP3 bytes for the session's protocol.
 *
 *   null                 nil (RESP2 `$-1`, RESP3 `_`)
 *   number | bigint      integer (`:`); a non-integer number is a programming error
 *   Buffer               bulk string
 *   Reply[]              array
 *   SimpleString         status reply (`+OK`)
 *   ErrorReply           error reply (`-ERR ...`)
 *   other classes below  RESP3 types that degrade to RESP2 shapes
 */
export type Reply =
  | null
  | number
  | bigint
  | Buffer
  | Reply[]
  | SimpleString
  | ErrorReply
  | DoubleReply
  | MapReply
  | SetReply
  | BoolReply
  | VerbatimReply
  | NullArray
  | PushReply
  | RawReply
  | StreamedReply;

export class SimpleString {
  constructor(readonly value: string) {}
}

/**
 * An error reply. `message` includes the code prefix, e.g. "ERR syntax error".
 * Errors that echo client bytes (unknown command...) carry them in `raw`, sent
 * as they are, like Redis; `message` is then their latin1 reading (logs, stats).
 */
export class ErrorReply extends Error {
  constructor(message: string, readonly raw?: Buffer) {
    super(message);
  }

  /** An error whose text is these exact bytes (CR/LF still become spaces on the wire). */
  static fromBytes(bytes: Buffer): ErrorReply {
    return new ErrorReply(bytes.toString('latin1'), bytes);
  }
}

/** RESP3 double (`,`); RESP2 bulk string formatted like Redis. */
export class DoubleReply {
  constructor(readonly value: number) {}
}

/** RESP3 map (`%`); RESP2 flat array of key, value, key, value... */
export class MapReply {
  constructor(readonly entries: Array<[Reply, Reply]>) {}
}

/** RESP3 set (`~`); RESP2 array. */
export class SetReply {
  constructor(readonly items: Reply[]) {}
}

/** RESP3 boolean (`#`); RESP2 integer 1/0. */
export class BoolReply {
  constructor(readonly value: boolean) {}
}

/** RESP3 verbatim string (`=`, e.g. "txt"); RESP2 bulk string. */
export class VerbatimReply {
  constructor(readonly format: string, readonly text: Buffer | string) {}
}

/** A nil array: RESP2 `*-1`, RESP3 `_` (BLPOP timeout, EXEC abort). */
export class NullArray {}
export const NULL_ARRAY = new NullArray();

/** Out-of-band push (`>` in RESP3, plain array in RESP2): pub/sub messages. */
export class PushReply {
  constructor(readonly items: Reply[]) {}
}

/** Bytes already encoded for both protocols (hot paths, replication stream). */
export class RawReply {
  constructor(readonly bytes: Buffer) {}
}

/**
 * A big aggregate written to its client as it is produced (a paged
 * collection's rows read from PostgreSQL, keyspace/paging.ts): `header` at
 * once, then what `next` gives until null, `items` elements in all. Only a
 * connection writes it (server/client.ts), never an encoder: nothing else
 * (a script, EXEC) is handed one.
 */
export class StreamedReply {
  constructor(
    readonly header: Buffer,
    /** elements after the header */
    readonly items: number,
    /** the next encoded elements and how many they are, or null after the last */
    readonly next: () => Promise<{ bytes: Buffer; items: number } | null>,
    /** stop early (the client went away): give back what it reads from */
    readonly close: () => void,
  ) {}
}

export const OK = new SimpleString('OK');
export const QUEUED = new SimpleString('QUEUED');
export const PONG = new SimpleString('PONG');
