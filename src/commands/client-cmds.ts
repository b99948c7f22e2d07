/**
 * CLIENT and its subcommands (Redis 7.0 replies and errors; SETINFO and
 * NO-TOUCH as in later versions). Client-side caching: TRACKING, CACHING,
 * GETREDIR and TRACKINGINFO here, the tracking itself in execution/tracking.ts.
 *
 * CLIENT PAUSE holds commands of normal clients in Talus.dispatch (through
 * `talus.pauseGate`) until UNPAUSE or the timeout, then runs them in arrival
 * order: ALL holds every command, WRITE the ones that may change data (and
 * EXEC of a transaction holding such commands).
 */
import { atDeadline } from '../util/timers.js';
import type { CommandDef, Command } from './table.js';
import { Errors } from './errors.js';
import { ErrorReply, MapReply, OK, SetReply, VerbatimReply, type Reply } from '../protocol/reply.js';
import { requestBytes } from '../protocol/parser.js';
import { keyword } from './args.js';
import { parseInteger } from '../util/numbers.js';
import { parseShebang } from '../scripting/engine.js';
import { validateClientName } from './connection.js';
import { helpReply } from './help.js';
import type { CommandContext } from '../execution/context.js';
import type { ServerControl } from '../execution/context.js';
import type { Session } from '../execution/session.js';
import type { TrackingOptions } from '../execution/tracking.js';

const b = (s: string) => Buffer.from(s);
const str = (a: Buffer) => a.toString();

type ClientType = 'normal' | 'master' | 'replica' | 'pubsub';

export function clientType(s: Session): ClientType {
  if (s.flags.has('master')) return 'master';
  if ((s.flags.has('replica') || s.flags.has('slave')) && !s.connection!.monitor) return 'replica';
  if (s.flags.has('pubsub')) return 'pubsub';
  return 'normal';
}

function parseType(a: Buffer): ClientType | ErrorReply {
  const t = str(a).toLowerCase();
  if (t === 'normal' || t === 'master' || t === 'replica' || t === 'pubsub') return t;
  if (t === 'slave') return 'replica';
  return Errors.echoing("ERR Unknown client type '", a, "'");
}

function flagString(s: Session): string {
  let f = '';
  if (s.connection!.monitor) f += 'O';
  else if (s.flags.has('replica') || s.flags.has('slave')) f += 'S';
  if (s.flags.has('master')) f += 'M';
  if (s.flags.has('pubsub')) f += 'P';
  if (s.multi !== null) f += 'x';
  if (s.flags.has('blocked')) f += 'b';
  if (s.tracking.on) f += 't';
  if (s.tracking.brokenRedirect) f += 'R';
  if (s.tracking.bcast) f += 'B';
  if (s.connection!.closeAfterReply) f += 'c';
  if (s.connection!.viaUnixSocket) f += 'U';
  if (s.noEvict) f += 'e';
  if (s.noTouch) f += 'T';
  return f || 'N';
}

/** Bytes of a request in RESP multibulk form. */
function respLength(args: Buffer[]): number {
  let n = 3 + String(args.length).length;
  for (const a of args) n += 5 + String(a.length).length + a.length;
  return n;
}

const QBUF_SIZE = 20474;
const REPLY_BUF = 16384;

/**
 * One CLIENT LIST / CLIENT INFO line. `current` is the request being run
 * when `c` is the client asking: it is still in its query buffer, as in Redis.
 * qbuf counts requests received and not yet run (parsed ahead too), omem the
 * unsent output (replies held for durability included), tot-mem what the
 * connection holds as maxmemory-clients counts it; qbuf-free and rbs are
 * Redis's buffer sizes, shown for tools that parse them.
 */
export function clientInfoLine(s: Session, unixsocket: string, current?: { args: Buffer[]; name: string }): string {
  const now = Date.now();
  const qbuf = s.connection!.queryBytes + (current ? respLength(current.args) : 0);
  const qbufFree = qbuf > 0 ? Math.max(0, QBUF_SIZE - qbuf) : 0;
  const argvMem = current ? requestBytes(current.args) : 0;
  let multiMem = 0;
  if (s.multi) for (const q of s.multi) for (const a of q.args) multiMem += a.length + 16;
  const omem = s.connection!.outputBytes;
  const totMem = s.connection!.memoryUsage + argvMem;
  const addr = s.connection!.viaUnixSocket ? `${unixsocket}:0` : s.connection!.addr;
  const laddr = s.connection!.viaUnixSocket ? `${unixsocket}:0` : s.connection!.laddr;
  return (
    `id=${s.id} addr=${addr} laddr=${laddr} fd=${s.connection!.fd} name=${s.name}` +
    ` age=${Math.floor((now - s.createdAt) / 1000)} idle=${current ? 0 : Math.floor((now - s.connection!.lastInteraction) / 1000)}` +
    ` flags=${flagString(s)} db=${s.dbIndex} sub=${s.subscriptions.channel.size} psub=${s.subscriptions.pattern.size} ssub=${s.subscriptions.shard.size}` +
    ` multi=${s.multi === null ? -1 : s.multi.length} qbuf=${qbuf} qbuf-free=${qbufFree} argv-mem=${argvMem}` +
    ` multi-mem=${multiMem} rbs=${REPLY_BUF} rbp=${current ? REPLY_BUF : 0} obl=0 oll=${s.connection!.waitingReplies} omem=${omem}` +
    ` tot-mem=${totMem} events=r${omem > 0 ? 'w' : ''} cmd=${current ? current.name : s.lastCommand}` +
    ` user=${s.user} redir=${s.tracking.on ? s.tracking.redirect : -1} resp=${s.protocol}`
  );
}

function clientList(c: CommandContext, args: Buffer[]): Reply {
  let type: ClientType | undefined;
  let ids: Set<number> | undefined;
  if (args.length === 4 && keyword(args[2]!) === 'TYPE') {
    const t = parseType(args[3]!);
    if (t instanceof ErrorReply) return t;
    type = t;
  } else if (args.length > 3 && keyword(args[2]!) === 'ID') {
    ids = new Set();
    for (let i = 3; i < args.length; i++) {
      const n = parseInteger(args[i]!);
      // as Redis: any integer, one no client has (0, negative) matches none
      if (n === null) return new ErrorReply('ERR Invalid client ID');
      ids.add(Number(n));
    }
  } else if (args.length !== 2) {
    return Errors.syntax();
  }
  let text = '';
  for (const x of c.server.sessions.values()) {
    if (type !== undefined && clientType(x) !== type) continue;
    if (ids !== undefined && !ids.has(x.id)) continue;
    text += clientInfoLine(x, c.config.values.unixsocket, x === c.session ? { args, name: 'client|list' } : undefined) + '\n';
  }
  return new VerbatimReply('txt', text);
}

function clientKill(c: CommandContext, args: Buffer[]): Reply {
  const t = c.server;
  if (args.length === 3) {
    // Old form: CLIENT KILL addr:port
    const addr = str(args[2]!);
    const target = [...t.sessions.values()].find((x) => x.connection?.addr === addr);
    if (!target) return new ErrorReply('ERR No such client');
    kill(c, target);
    return OK;
  }
  let id: number | undefined;
  let type: ClientType | undefined;
  let addr: string | undefined;
  let laddr: string | undefined;
  let user: string | undefined;
  let maxAge: number | undefined;
  let skipMe = true;
  for (let i = 2; i < args.length; i += 2) {
    if (i + 1 >= args.length) return Errors.syntax();
    const opt = keyword(args[i]!);
    const val = args[i + 1]!;
    if (opt === 'ID') {
      const n = parseInteger(val);
      if (n === null || n <= 0n) return new ErrorReply('ERR client-id should be greater than 0');
      id = Number(n);
    } else if (opt === 'TYPE') {
      const ty = parseType(val);
      if (ty instanceof ErrorReply) return ty;
      type = ty;
    } else if (opt === 'ADDR') {
      addr = str(val);
    } else if (opt === 'LADDR') {
      laddr = str(val);
    } else if (opt === 'USER') {
      user = str(val);
      if (!c.server.acl.users.has(user)) return new ErrorReply(`ERR No such user '${user}'`);
    } else if (opt === 'SKIPME') {
      const v = keyword(val);
      if (v === 'YES') skipMe = true;
      else if (v === 'NO') skipMe = false;
      else return Errors.syntax();
    } else if (opt === 'MAXAGE') {
      const n = parseInteger(val);
      if (n === null) return Errors.syntax();
      maxAge = Number(n);
    } else {
      return Errors.syntax();
    }
  }
  const now = Date.now();
  let killed = 0;
  for (const x of [...t.sessions.values()]) {
    if (x.connection === undefined) continue;
    if (id !== undefined && x.id !== id) continue;
    if (type !== undefined && clientType(x) !== type) continue;
    if (addr !== undefined && x.connection.addr !== addr) continue;
    if (laddr !== undefined && x.connection.laddr !== laddr) continue;
    if (user !== undefined && x.user !== user) continue;
    if (maxAge !== undefined && (now - x.createdAt) / 1000 < maxAge) continue;
    if (x === c.session && skipMe) continue;
    kill(c, x);
    killed++;
  }
  return killed;
}

/** Close a client; the caller itself goes once this reply is written. */
function kill(self: CommandContext, target: Session): void {
  if (target === self.session) target.connection!.closeAfterReply = true;
  else target.connection!.close();
}

function onOff(a: Buffer): boolean | undefined {
  const k = keyword(a);
  return k === 'ON' ? true : k === 'OFF' ? false : undefined;
}

function clientReply(c: CommandContext, args: Buffer[]): Reply {
  const k = keyword(args[2]!);
  if (k === 'ON') {
    c.connection!.replyMode = 'on';
    return OK;
  }
  if (k === 'OFF') {
    c.connection!.replyMode = 'off';
    c.connection!.suppressReply = true;
    return OK;
  }
  if (k === 'SKIP') {
    // No reply to this command, and none to the next.
    if (c.connection!.replyMode === 'on') c.connection!.replyMode = 'skip';
    c.connection!.suppressReply = true;
    return OK;
  }
  return Errors.syntax();
}

function clientSetinfo(c: CommandContext, args: Buffer[]): Reply {
  const attr = keyword(args[2]!);
  const value = str(args[3]!);
  if (attr !== 'LIB-NAME' && attr !== 'LIB-VER') return new ErrorReply(`ERR Unrecognized option '${str(args[2]!)}'`);
  for (let i = 0; i < value.length; i++) {
    const ch = value.charCodeAt(i);
    if (ch < 33 || ch > 126) {
      return new ErrorReply(`ERR ${attr.toLowerCase()} cannot contain spaces, newlines or special characters.`);
    }
  }
  if (attr === 'LIB-NAME') c.session.libName = value;
  else c.session.libVersion = value;
  return OK;
}

// ---------------------------------------------------------------------------
// Client-side caching
// ---------------------------------------------------------------------------

/** CLIENT TRACKING ON|OFF [REDIRECT id] [PREFIX p ...] [BCAST] [OPTIN] [OPTOUT] [NOLOOP], Redis's checks in Redis's order. */
function clientTracking(c: CommandContext, args: Buffer[]): Reply {
  const o: TrackingOptions = { redirect: 0, bcast: false, optin: false, optout: false, noloop: false, prefixes: [] };
  for (let i = 3; i < args.length; i++) {
    const opt = keyword(args[i]!);
    const more = i + 1 < args.length;
    if (opt === 'REDIRECT' && more) {
      i++;
      if (o.redirect !== 0) return new ErrorReply('ERR A client can only redirect to a single other client');
      const n = parseInteger(args[i]!);
      if (n === null) return Errors.notInteger();
      if (!c.server.sessions.has(Number(n))) return new ErrorReply('ERR The client ID you want redirect to does not exist');
      o.redirect = Number(n);
    } else if (opt === 'BCAST') o.bcast = true;
    else if (opt === 'OPTIN') o.optin = true;
    else if (opt === 'OPTOUT') o.optout = true;
    else if (opt === 'NOLOOP') o.noloop = true;
    else if (opt === 'PREFIX' && more) o.prefixes.push(args[++i]!.toString('latin1'));
    else return Errors.syntax();
  }
  const mode = keyword(args[2]!);
  const s = c.session;
  const t = s.tracking;
  if (mode === 'OFF') {
    c.server.tracking.disable(s);
    return OK;
  }
  if (mode !== 'ON') return Errors.syntax();
  if (!o.bcast && o.prefixes.length > 0) return new ErrorReply('ERR PREFIX option requires BCAST mode to be enabled');
  if (t.on && t.bcast !== o.bcast) {
    return new ErrorReply("ERR You can't switch BCAST mode on/off before disabling tracking for this client, and then re-enabling it with a different mode.");
  }
  if (o.bcast && (o.optin || o.optout)) return new ErrorReply('ERR OPTIN and OPTOUT are not compatible with BCAST');
  if (o.optin && o.optout) return new ErrorReply("ERR You can't specify both OPTIN mode and OPTOUT mode");
  if ((o.optin && t.optout) || (o.optout && t.optin)) {
    return new ErrorReply("ERR You can't switch OPTIN/OPTOUT mode before disabling tracking for this client, and then re-enabling it with a different mode.");
  }
  if (o.bcast) {
    const collision = prefixCollision(t.prefixes, o.prefixes);
    if (collision !== undefined) return collision;
  }
  c.server.tracking.enable(s, o);
  return OK;
}

/** One prefix being the start of another: both would invalidate the same keys (Redis refuses it). */
function overlaps(a: string, b: string): boolean {
  return a.length <= b.length ? b.startsWith(a) : a.startsWith(b);
}

function prefixCollision(existing: ReadonlySet<string>, given: string[]): ErrorReply | undefined {
  const bytes = (p: string) => Buffer.from(p, 'latin1');
  for (let i = 0; i < given.length; i++) {
    const p = given[i]!;
    for (const e of [...existing].sort()) {
      if (overlaps(e, p)) {
        return ErrorReply.fromBytes(Buffer.concat([b("ERR Prefix '"), bytes(p), b("' overlaps with an existing prefix '"), bytes(e), b("'. Prefixes for a single client must not overlap.")]));
      }
    }
    for (let j = i + 1; j < given.length; j++) {
      if (overlaps(p, given[j]!)) {
        return ErrorReply.fromBytes(Buffer.concat([b("ERR Prefix '"), bytes(p), b("' overlaps with another provided prefix '"), bytes(given[j]!), b("'. Prefixes for a single client must not overlap.")]));
      }
    }
  }
  return undefined;
}

function clientCaching(c: CommandContext, args: Buffer[]): Reply {
  const t = c.session.tracking;
  if (!t.on) return new ErrorReply('ERR CLIENT CACHING can be called only when the client is in tracking mode with OPTIN or OPTOUT mode enabled');
  const v = keyword(args[2]!);
  if (v === 'YES') {
    if (!t.optin) return new ErrorReply('ERR CLIENT CACHING YES is only valid when tracking is enabled in OPTIN mode.');
  } else if (v === 'NO') {
    if (!t.optout) return new ErrorReply('ERR CLIENT CACHING NO is only valid when tracking is enabled in OPTOUT mode.');
  } else {
    return Errors.syntax();
  }
  t.caching = true;
  return OK;
}

function clientTrackingInfo(c: CommandContext): Reply {
  const t = c.session.tracking;
  const flags: Buffer[] = [b(t.on ? 'on' : 'off')];
  if (t.bcast) flags.push(b('bcast'));
  if (t.optin) {
    flags.push(b('optin'));
    if (t.caching) flags.push(b('caching-yes'));
  }
  if (t.optout) {
    flags.push(b('optout'));
    if (t.caching) flags.push(b('caching-no'));
  }
  if (t.noloop) flags.push(b('noloop'));
  if (t.brokenRedirect) flags.push(b('broken_redirect'));
  const prefixes = [...t.prefixes].sort().map((p) => Buffer.from(p, 'latin1'));
  return new MapReply([[b('flags'), new SetReply(flags)], [b('redirect'), t.on ? t.redirect : -1], [b('prefixes'), prefixes]]);
}

// ---------------------------------------------------------------------------
// CLIENT PAUSE
// ---------------------------------------------------------------------------

interface PauseState {
  until: number;
  all: boolean;
  /** FAILOVER pauses writes too, independently of CLIENT PAUSE/UNPAUSE (as Redis's pause purposes) */
  failover: boolean;
  /** cancels the unpause at `until` */
  timer: (() => void) | undefined;
  held: Array<{ s: Session; args: Buffer[] }>;
}

const pauses = new WeakMap<ServerControl, PauseState>();

function pauseState(t: ServerControl): PauseState {
  let p = pauses.get(t);
  if (!p) pauses.set(t, (p = { until: 0, all: false, failover: false, timer: undefined, held: [] }));
  return p;
}

/**
 * Whether a command may write, as a write pause judges it: a script with a
 * shebang is judged by its own flags (no-writes: it does not; otherwise it
 * may, EVAL_RO and FCALL_RO included), anything else by its may_replicate
 * flag, as Redis derives a command's flags from the script it runs.
 */
function mayWrite(t: ServerControl, cmd: Command, args: Buffer[]): boolean {
  const flags = scriptFlags(t, cmd, args);
  if (flags === undefined || flags.has('__compat')) return cmd.mayReplicate;
  return !flags.has('no-writes');
}

/** The flags of the script an EVAL-like command names, if it is known (a body that does not parse: none). */
function scriptFlags(t: ServerControl, cmd: Command, args: Buffer[]): ReadonlySet<string> | undefined {
  const scripting = t.scripting;
  switch (cmd.name) {
    case 'eval':
    case 'eval_ro': {
      const shebang = parseShebang(args[1]!);
      return shebang instanceof ErrorReply ? undefined : shebang.flags;
    }
    case 'evalsha':
    case 'evalsha_ro':
      return scripting.engine.get(args[1]!.toString('latin1'))?.flags;
    case 'fcall':
    case 'fcall_ro':
      return scripting.functions.find(args[1]!.toString('latin1'))?.flags;
    default:
      return undefined;
  }
}

function pauseGate(t: ServerControl, s: Session, cmd: Command, args: Buffer[]): boolean {
  const p = pauses.get(t);
  if (!p || (p.until === 0 && !p.failover)) return false;
  if (p.until !== 0 && p.until <= Date.now()) {
    unpause(t);
    if (!p.failover) return false;
  }
  if (s.flags.has('replica') || s.flags.has('slave') || s.flags.has('master')) return false;
  const affected = (p.until !== 0 && p.all) || mayWrite(t, cmd, args) || (cmd.name === 'exec' && (s.multi ?? []).some((q) => mayWrite(t, q.cmd, q.args)));
  if (!affected) return false;
  s.connection!.pause();
  // held commands count as blocked (INFO blocked_clients, CLIENT LIST flag b), as in Redis
  s.flags.add('blocked');
  p.held.push({ s, args });
  return true;
}

function unpause(t: ServerControl): void {
  const p = pauseState(t);
  p.until = 0;
  p.all = false;
  syncExpiryPause(t);
  p.timer?.();
  p.timer = undefined;
  if (!p.failover) release(t);
}

/** FAILOVER's pause of writes (on while it waits for its target and hands over; off when done or aborted). */
export function pauseWritesForFailover(t: ServerControl, on: boolean): void {
  const p = pauseState(t);
  p.failover = on;
  syncExpiryPause(t);
  if (!on && p.until === 0) release(t);
}

/**
 * The one rule for the keyspace's expiry while writes are held: paused as
 * long as a CLIENT PAUSE (WRITE or ALL) or FAILOVER holds them, so that no
 * expiry deletes a key (a write) that the pause keeps clients from making.
 */
function syncExpiryPause(t: ServerControl): void {
  const p = pauseState(t);
  t.keyspace.expiryPaused = p.until !== 0 || p.failover;
}

/** Run the held commands, in arrival order. */
function release(t: ServerControl): void {
  const p = pauseState(t);
  const held = p.held;
  p.held = [];
  for (const h of held) {
    h.s.flags.delete('blocked');
    if (h.s.connection!.closed) continue;
    h.s.connection!.resume();
    t.dispatch(h.s, h.args);
  }
}

function clientPause(c: CommandContext, args: Buffer[]): Reply {
  const n = parseInteger(args[2]!);
  if (n === null) return new ErrorReply('ERR timeout is not an integer or out of range');
  if (n < 0n) return new ErrorReply('ERR timeout is negative');
  let all = true;
  if (args.length === 4) {
    const m = keyword(args[3]!);
    if (m === 'WRITE') all = false;
    else if (m !== 'ALL') return new ErrorReply('ERR CLIENT PAUSE mode must be WRITE or ALL');
  } else if (args.length > 4) {
    return Errors.syntax();
  }
  const t = c.server;
  const p = pauseState(t);
  const now = Date.now();
  // past 2^53 ms (285,000 years) a pause is for good
  const until = Math.min(now + Number(n), Number.MAX_SAFE_INTEGER);
  const active = p.until > now;
  p.all = active ? p.all || all : all;
  p.until = active ? Math.max(p.until, until) : until;
  p.timer?.();
  p.timer = atDeadline(p.until, () => unpause(t));
  syncExpiryPause(t);
  return OK;
}

export function installClientHooks(t: ServerControl): void {
  t.pauseGate = (c, cmd, args) => pauseGate(t, c, cmd, args);
}

// ---------------------------------------------------------------------------
// The table
// ---------------------------------------------------------------------------

const CLIENT_HELP = [
  'CACHING (YES|NO)',
  '    Enable/disable tracking of the keys for next command in OPTIN/OPTOUT modes.',
  'GETREDIR',
  '    Return the client ID we are redirecting to when tracking is enabled.',
  'GETNAME',
  '    Return the name of the current connection.',
  'ID',
  '    Return the ID of the current connection.',
  'INFO',
  '    Return information about the current client connection.',
  'KILL <ip:port>',
  '    Kill connection made from <ip:port>.',
  'KILL <option> <value> [<option> <value> [...]]',
  '    Kill connections. Options are:',
  '    * ADDR (<ip:port>|<unixsocket>:0)',
  '      Kill connections made from the specified address',
  '    * LADDR (<ip:port>|<unixsocket>:0)',
  '      Kill connections made to specified local address',
  '    * TYPE (NORMAL|MASTER|REPLICA|PUBSUB)',
  '      Kill connections by type.',
  '    * USER <username>',
  '      Kill connections authenticated by <username>.',
  '    * SKIPME (YES|NO)',
  '      Skip killing current connection (default: yes).',
  '    * ID <client-id>',
  '      Kill connections by client id.',
  '    * MAXAGE <maxage>',
  '      Kill connections older than the specified age.',
  'LIST [options ...]',
  '    Return information about client connections. Options:',
  '    * TYPE (NORMAL|MASTER|REPLICA|PUBSUB)',
  '      Return clients of specified type.',
  '    * ID <client-id> [<client-id> ...]',
  '      Return clients of specified IDs only.',
  'UNPAUSE',
  '    Stop the current client pause, resuming traffic.',
  'PAUSE <timeout> [WRITE|ALL]',
  '    Suspend all, or just write, clients for <timeout> milliseconds.',
  'REPLY (ON|OFF|SKIP)',
  '    Control the replies sent to the current connection.',
  'SETNAME <name>',
  '    Assign the name <name> to the current connection.',
  'SETINFO <option> <value>',
  '    Set client meta attr. Options are:',
  '    * LIB-NAME: the client lib name.',
  '    * LIB-VER: the client lib version.',
  'UNBLOCK <clientid> [TIMEOUT|ERROR]',
  '    Unblock the specified blocked client.',
  'TRACKING (ON|OFF) [REDIRECT <id>] [BCAST] [PREFIX <prefix> [...]]',
  '         [OPTIN] [OPTOUT] [NOLOOP]',
  '    Control server assisted client side caching.',
  'TRACKINGINFO',
  '    Report tracking status for the current connection.',
  'NO-EVICT (ON|OFF)',
  '    Protect current client connection from eviction.',
  'NO-TOUCH (ON|OFF)',
  '    Will not touch LRU/LFU stats when this mode is on.',
];

const CONN = ['noscript', 'loading', 'stale'] as const;
const ADMIN_CONN = ['admin', 'noscript', 'loading', 'stale'] as const;

function sub(name: string, arity: number, admin: boolean, summary: string, since: string, handler: CommandDef['handler']): CommandDef {
  return {
    name, arity, flags: admin ? [...ADMIN_CONN] : [...CONN], group: 'connection', since, summary,
    complexity: 'O(1)', handler,
  };
}

export const clientCommands: CommandDef[] = [
  {
    name: 'client', arity: -2, flags: [], group: 'connection', since: '2.4.0',
    summary: 'A container for client connection commands.', complexity: 'Depends on subcommand.',
    subcommands: [
      sub('id', 2, false, 'Returns the unique client ID of the connection.', '5.0.0', (c) => c.session.id),
      sub('info', 2, false, 'Returns information about the connection.', '6.2.0',
        (c, args) => new VerbatimReply('txt', clientInfoLine(c.session, c.config.values.unixsocket, { args, name: 'client|info' }) + '\n')),
      { ...sub('list', -2, true, 'Lists open connections.', '2.4.0', clientList), complexity: 'O(N) where N is the number of client connections' },
      { ...sub('kill', -3, true, 'Terminates open connections.', '2.4.0', clientKill), complexity: 'O(N) where N is the number of client connections' },
      sub('setname', 3, false, 'Sets the connection name.', '2.6.9', (c, args) => {
        const name = str(args[2]!);
        const bad = validateClientName(name);
        if (bad) return bad;
        c.session.name = name;
        return OK;
      }),
      sub('getname', 2, false, 'Returns the name of the connection.', '2.6.9', (c) => (c.session.name ? b(c.session.name) : null)),
      sub('setinfo', 4, false, 'Sets information specific to the client or connection.', '7.2.0', clientSetinfo),
      sub('no-evict', 3, true, 'Sets the client eviction mode of the connection.', '7.0.0', (c, args) => {
        const v = onOff(args[2]!);
        if (v === undefined) return Errors.syntax();
        c.session.noEvict = v;
        return OK;
      }),
      sub('no-touch', 3, false, 'Controls whether commands sent by the client affect the LRU/LFU of accessed keys.', '7.2.0',
        (c, args) => {
          const v = onOff(args[2]!);
          if (v === undefined) return Errors.syntax();
          c.session.noTouch = v;
          return OK;
        }),
      sub('reply', 3, false, 'Instructs the server whether to reply to commands.', '3.2.0', clientReply),
      { ...sub('pause', -3, true, 'Suspends commands processing.', '3.0.0', clientPause) },
      sub('unpause', 2, true, 'Resumes processing commands from paused clients.', '6.2.0', (c) => {
        unpause(c.server);
        return OK;
      }),
      sub('tracking', -3, false, 'Controls server-assisted client-side caching for the connection.', '6.0.0', clientTracking),
      sub('trackinginfo', 2, false, 'Returns information about server-assisted client-side caching for the connection.', '6.2.0',
        clientTrackingInfo),
      sub('caching', 3, false, 'Instructs the server whether to track the keys in the next request.', '6.0.0', clientCaching),
      sub('getredir', 2, false, 'Returns the client ID to which the connection\'s tracking notifications are redirected.', '6.0.0',
        (c) => (c.session.tracking.on ? c.session.tracking.redirect : -1)),
      { ...sub('unblock', -3, true, 'Unblocks a client blocked by a blocking command from a different connection.', '5.0.0',
        (c, args) => {
          const n = parseInteger(args[2]!);
          if (n === null) return Errors.notInteger();
          let error = false;
          if (args.length === 4) {
            const m = keyword(args[3]!);
            if (m === 'ERROR') error = true;
            else if (m !== 'TIMEOUT') return new ErrorReply('ERR CLIENT UNBLOCK reason should be TIMEOUT or ERROR');
          } else if (args.length > 4) {
            return Errors.syntax();
          }
          const target = c.server.sessions.get(Number(n));
          if (!target || !target.unblock) return 0;
          target.unblock(error);
          return 1;
        }), complexity: 'O(log N) where N is the number of client connections' },
      { ...sub('help', 2, false, 'Returns helpful text about the different subcommands.', '5.0.0', () => helpReply('CLIENT', CLIENT_HELP)),
        flags: ['loading', 'stale'] },
    ],
  },
];
