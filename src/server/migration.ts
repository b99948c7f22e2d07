/**
 * MIGRATE's client side (commands/migrate.ts builds the payloads; this
 * moves them). Like redis-server it keeps one connection per target
 * host:port for reuse, closed after 10 s unused (at most 64), remembers
 * which db each one has selected (SELECT only when it changes) and sends a
 * whole transfer in one write: AUTH if asked, SELECT if needed, one RESTORE
 * per key (REPLACE if asked), then reads one reply line for each.
 *
 * Errors are Redis's, word for word:
 * - the target's host cannot be resolved: `IOERR error or timeout connecting
 *   to the client`;
 * - the connection fails (refused, reset, timed out) or the write does not
 *   complete in time: `IOERR error or timeout writing to target instance`;
 * - a reply does not come in time or the connection closes first: `IOERR error
 *   or timeout reading to target instance`;
 * - AUTH, SELECT or a RESTORE answered an error: `ERR Target instance replied
 *   with error: <its error>` (the first one), while the keys it restored are
 *   still reported restored.
 * As in Redis, a failure before any RESTORE reply was read that is not a
 * timeout (typically a cached connection the target closed meanwhile) is
 * tried once more on a new connection.
 *
 * Nothing here blocks the event loop; transfers to one host:port take turns
 * on its connection (each needs the replies to its own commands).
 */
import net from 'node:net';
import type { MigrateRequest, MigrateResult, MigrationClient } from '../execution/context.js';
import { encodeEffect } from '../replication/changelog.js';

/** How long a cached connection may stay unused (Redis's MIGRATE_SOCKET_CACHE_TTL). */
const IDLE_MS = 10_000;
/** Cached connections at most (Redis's MIGRATE_SOCKET_CACHE_ITEMS); one more evicts the least recently used. */
const MAX_LINKS = 64;

const CONNECT_ERROR = 'IOERR error or timeout connecting to the client';
const ioError = (writing: boolean) => `IOERR error or timeout ${writing ? 'writing' : 'reading'} to target instance`;

/** A failed exchange: what to answer, and whether one more try on a new connection is allowed. */
class LinkFailure extends Error {
  constructor(readonly reply: string, readonly retry: boolean) {
    super(reply);
  }
}

/** One cached connection to a target: a socket and the reply lines it has sent. */
class Link {
  /** the db its last successful MIGRATE selected (-1: unknown, SELECT next time) */
  lastDb = -1;
  lastUse = Date.now();
  /** a transfer is using it (not idle, whatever lastUse says) */
  busy = false;
  closed = false;
  private buffered: Buffer = Buffer.alloc(0);
  private lines: string[] = [];
  private waiter: ((line: string | undefined) => void) | undefined;
  private readonly socket: net.Socket;

  private constructor(socket: net.Socket, readonly key: string) {
    this.socket = socket;
    socket.setNoDelay(true);
    socket.on('data', (d: Buffer) => this.received(d));
    socket.on('error', () => this.close());
    socket.on('close', () => this.close());
  }

  /** Connect within `timeoutMs`; throws a LinkFailure with Redis's error. */
  static open(host: string, port: number, key: string, timeoutMs: number): Promise<Link> {
    return new Promise((resolve, reject) => {
      if (!Number.isInteger(port) || port <= 0 || port > 65535) {
        reject(new LinkFailure(ioError(true), false));
        return;
      }
      const socket = net.connect({ host, port });
      const timer = setTimeout(() => {
        socket.destroy();
        reject(new LinkFailure(ioError(true), false));
      }, timeoutMs);
      socket.once('connect', () => {
        clearTimeout(timer);
        socket.removeAllListeners('error');
        resolve(new Link(socket, key));
      });
      socket.once('error', (err: NodeJS.ErrnoException) => {
        clearTimeout(timer);
        socket.destroy();
        // a name that does not resolve fails before any connection is tried, as in Redis
        if (err.syscall === 'getaddrinfo') reject(new LinkFailure(CONNECT_ERROR, false));
        else reject(new LinkFailure(ioError(true), true));
      });
    });
  }

  /** Write it all within `timeoutMs`. */
  write(data: Buffer, timeoutMs: number): Promise<void> {
    return new Promise((resolve, reject) => {
      if (this.closed) {
        reject(new LinkFailure(ioError(true), true));
        return;
      }
      const timer = setTimeout(() => {
        this.close();
        reject(new LinkFailure(ioError(true), false));
      }, timeoutMs);
      this.socket.write(data, (err) => {
        clearTimeout(timer);
        if (err) reject(new LinkFailure(ioError(true), true));
        else resolve();
      });
    });
  }

  /** The next reply line (without CRLF) within `timeoutMs`; `retry`: whether a failure may be tried again. */
  readLine(timeoutMs: number, retry: boolean): Promise<string> {
    const ready = this.lines.shift();
    if (ready !== undefined) return Promise.resolve(ready);
    return new Promise((resolve, reject) => {
      if (this.closed) {
        reject(new LinkFailure(ioError(false), retry));
        return;
      }
      const timer = setTimeout(() => {
        this.waiter = undefined;
        this.close();
        reject(new LinkFailure(ioError(false), false));
      }, timeoutMs);
      this.waiter = (line) => {
        clearTimeout(timer);
        this.waiter = undefined;
        if (line === undefined) reject(new LinkFailure(ioError(false), retry));
        else resolve(line);
      };
    });
  }

  private received(d: Buffer): void {
    this.buffered = this.buffered.length === 0 ? d : Buffer.concat([this.buffered, d]);
    for (;;) {
      const nl = this.buffered.indexOf(10);
      if (nl < 0) break;
      const end = nl > 0 && this.buffered[nl - 1] === 13 ? nl - 1 : nl;
      const line = this.buffered.toString('latin1', 0, end);
      this.buffered = this.buffered.subarray(nl + 1);
      if (this.waiter !== undefined) this.waiter(line);
      else this.lines.push(line);
    }
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.socket.destroy();
    this.waiter?.(undefined);
  }
}

export class MigrationLinks implements MigrationClient {
  /** by "host:port", least recently used first */
  private readonly links = new Map<string, Link>();
  /** the transfer that last took its turn on each host:port */
  private readonly turns = new Map<string, Promise<unknown>>();
  private readonly sweeper: NodeJS.Timeout;

  constructor() {
    this.sweeper = setInterval(() => this.closeIdle(), 1000);
    this.sweeper.unref();
  }

  migrate(request: MigrateRequest): Promise<MigrateResult> {
    const key = `${request.host}:${request.port}`;
    const previous = this.turns.get(key) ?? Promise.resolve();
    const mine = previous.then(() => this.transfer(key, request));
    const settledTurn = mine.catch(() => undefined);
    this.turns.set(key, settledTurn);
    void settledTurn.then(() => {
      if (this.turns.get(key) === settledTurn) this.turns.delete(key);
    });
    return mine;
  }

  /** Close every cached connection (shutdown). */
  close(): void {
    clearInterval(this.sweeper);
    for (const link of this.links.values()) link.close();
    this.links.clear();
  }

  private async transfer(key: string, request: MigrateRequest): Promise<MigrateResult> {
    try {
      return await this.attempt(key, request);
    } catch (err) {
      this.drop(key);
      if (!(err instanceof LinkFailure)) throw err;
      if (!err.retry) return { restored: [], error: err.reply };
    }
    try {
      return await this.attempt(key, request);
    } catch (err) {
      this.drop(key);
      if (!(err instanceof LinkFailure)) throw err;
      return { restored: [], error: err.reply };
    }
  }

  /** One try: a LinkFailure is thrown for failures before any RESTORE reply; after that the result says it. */
  private async attempt(key: string, request: MigrateRequest): Promise<MigrateResult> {
    const link = await this.link(key, request);
    link.busy = true;
    try {
      return await this.exchange(key, link, request);
    } finally {
      link.busy = false;
      link.lastUse = Date.now();
    }
  }

  private async exchange(key: string, link: Link, request: MigrateRequest): Promise<MigrateResult> {
    const { timeoutMs } = request;
    const commands: Array<Array<Buffer | string>> = [];
    const auth = request.password !== undefined;
    if (auth) commands.push(request.username !== undefined ? ['AUTH', request.username, request.password!] : ['AUTH', request.password!]);
    const select = link.lastDb !== request.db;
    if (select) commands.push(['SELECT', String(request.db)]);
    for (const k of request.keys) {
      const restore: Array<Buffer | string> = ['RESTORE', k.name, String(k.ttl), k.payload];
      if (request.replace) restore.push('REPLACE');
      commands.push(restore);
    }
    link.lastUse = Date.now();
    await link.write(Buffer.concat(commands.map(encodeEffect)), timeoutMs);
    const authReply = auth ? await link.readLine(timeoutMs, true) : '';
    const selectReply = select ? await link.readLine(timeoutMs, true) : '';
    const restored: number[] = [];
    let error: string | undefined;
    for (let i = 0; i < request.keys.length; i++) {
      let line: string;
      try {
        line = await link.readLine(timeoutMs, false);
      } catch (err) {
        if (!(err instanceof LinkFailure)) throw err;
        this.drop(key);
        // keys restored before the connection failed stay moved; the target's error, if any, is the answer
        return { restored, error: error ?? err.reply };
      }
      const failed = authReply.startsWith('-') ? authReply : selectReply.startsWith('-') ? selectReply : line.startsWith('-') ? line : undefined;
      if (failed === undefined) {
        restored.push(i);
      } else if (error === undefined) {
        error = `ERR Target instance replied with error: ${failed.slice(1)}`;
        link.lastDb = -1; // the db selected is not known any more
      }
    }
    if (error === undefined) link.lastDb = request.db;
    return { restored, error };
  }

  /** The cached connection to host:port, or a new one. */
  private async link(key: string, request: MigrateRequest): Promise<Link> {
    const cached = this.links.get(key);
    if (cached !== undefined && !cached.closed) {
      this.links.delete(key); // re-inserted last: most recently used
      this.links.set(key, cached);
      return cached;
    }
    this.links.delete(key);
    if (this.links.size >= MAX_LINKS) {
      const [oldest] = this.links.keys();
      this.drop(oldest!);
    }
    const link = await Link.open(request.host, portNumber(request.port), key, request.timeoutMs);
    this.links.set(key, link);
    return link;
  }

  private drop(key: string): void {
    this.links.get(key)?.close();
    this.links.delete(key);
  }

  private closeIdle(): void {
    const limit = Date.now() - IDLE_MS;
    for (const [key, link] of this.links) if (link.closed || (!link.busy && link.lastUse < limit)) this.drop(key);
  }
}

/** The port as Redis reads it (atoi: leading digits, else 0). */
function portNumber(text: string): number {
  const m = /^\s*[+-]?\d+/.exec(text);
  return m ? Number(m[0]) : 0;
}
