/**
 * The geo family (Redis 7.0): points kept in a sorted set, each member's
 * score its 52-bit geohash (util/geohash.ts). GEOADD is ZADD with computed
 * scores (its effect and keyspace event are ZADD's, as Redis rewrites it);
 * GEOPOS, GEODIST and GEOHASH decode scores; GEORADIUS, GEORADIUSBYMEMBER
 * (and their _RO forms), GEOSEARCH and GEOSEARCHSTORE scan the score ranges
 * of the boxes around the centre, in Redis's order, so that unsorted and
 * COUNT ... ANY results match it too.
 *
 * Coordinates are replied with 17 decimals, trailing zeros removed (a bulk
 * string in RESP2, a double in RESP3), distances with 4 decimals, as Redis.
 */
import type { CommandDef } from './table.js';
import type { CommandContext } from '../execution/context.js';
import { ErrorReply, RawReply, NULL_ARRAY, type Reply } from '../protocol/reply.js';
import { Errors } from './errors.js';
import { floatArg, keyword, longArg } from './args.js';
import { storeCollection } from './collections.js';
import { listpackLimits, readZset, zaddGeneric } from './zsets.js';
import { ZSetValue } from '../keyspace/values/zset.js';
import { members, type Access } from '../keyspace/paging.js';
import { formatFixed } from '../util/numbers.js';
import {
  GEO_LAT_MAX,
  GEO_LAT_MIN,
  GEO_LONG_MAX,
  GEO_LONG_MIN,
  decodeScore,
  distance,
  distanceIfWithin,
  geoScore,
  geohashString,
  searchRanges,
  type Shape,
} from '../util/geohash.js';

const str = (b: Buffer) => b.toString('latin1');
const bulk = (s: string) => Buffer.from(s, 'latin1');

/** C's %f. */
const fixed6 = (x: number): string => formatFixed(x, 6);

/** A longitude, latitude pair at args[at], within the limits geohashes cover. */
function lonLatArg(args: Buffer[], at: number): [number, number] {
  const lon = floatArg(args[at]!);
  const lat = floatArg(args[at + 1]!);
  if (lon < GEO_LONG_MIN || lon > GEO_LONG_MAX || lat < GEO_LAT_MIN || lat > GEO_LAT_MAX) {
    throw new ErrorReply(`ERR invalid longitude,latitude pair ${fixed6(lon)},${fixed6(lat)}`);
  }
  return [lon, lat];
}

const UNITS: Record<string, number> = { m: 1, km: 1000, ft: 0.3048, mi: 1609.34 };

/** Meters per unit. */
function unitArg(b: Buffer): number {
  const m = UNITS[keyword(b).toLowerCase()]; // compared as C strings: up to a NUL
  if (m === undefined) throw new ErrorReply('ERR unsupported unit provided. please use M, KM, FT, MI');
  return m;
}

/** Redis's human form of a coordinate: 17 decimals, trailing zeros dropped. */
function coordinateText(x: number): string {
  let s = x.toFixed(17);
  if (s.includes('.')) s = s.replace(/0+$/, '').replace(/\.$/, '');
  return s === '-0' ? '0' : s;
}

function coordinateReply(c: CommandContext, x: number): Reply {
  const text = coordinateText(x);
  return c.session.protocol === 2 ? bulk(text) : new RawReply(Buffer.from(`,${text}\r\n`, 'latin1'));
}

const distanceReply = (d: number): Reply => bulk(d.toFixed(4));

/** WITHHASH: the score as C's cast to long long gives it (any member's score, not only GEOADD's). */
function hashReply(score: number): Reply {
  if (!(score >= -(2 ** 63) && score < 2 ** 63)) return -(2n ** 63n);
  const n = Math.trunc(score);
  return Number.isSafeInteger(n) ? n : BigInt(n);
}

// --- GEOADD, GEOPOS, GEODIST, GEOHASH -------------------------------------------

function geoadd(c: CommandContext, args: Buffer[]): Reply {
  let at = 2;
  let nx = false;
  let xx = false;
  for (; at < args.length; at++) {
    const o = keyword(args[at]!);
    if (o === 'NX') nx = true;
    else if (o === 'XX') xx = true;
    else if (o !== 'CH') break;
  }
  if ((args.length - at) % 3 !== 0 || (nx && xx)) throw Errors.syntax();
  // ZADD key [options] score member ...
  const zadd: Buffer[] = [bulk('ZADD'), ...args.slice(1, at)];
  for (let i = at; i < args.length; i += 3) {
    const [lon, lat] = lonLatArg(args, i);
    zadd.push(bulk(String(geoScore(lon, lat))), args[i + 2]!);
  }
  return zaddGeneric(c, zadd, false);
}

function geopos(c: CommandContext, args: Buffer[]): Reply {
  const z = readZset(c, args[1]!);
  const out: Reply[] = [];
  for (let i = 2; i < args.length; i++) {
    const score = z?.score(str(args[i]!));
    if (score === undefined) {
      out.push(NULL_ARRAY);
      continue;
    }
    const [lon, lat] = decodeScore(score);
    out.push([coordinateReply(c, lon), coordinateReply(c, lat)]);
  }
  return out;
}

function geodist(c: CommandContext, args: Buffer[]): Reply {
  if (args.length > 5) throw Errors.syntax();
  const toMeters = args.length === 5 ? unitArg(args[4]!) : 1;
  const z = readZset(c, args[1]!);
  const s1 = z?.score(str(args[2]!));
  const s2 = z?.score(str(args[3]!));
  if (s1 === undefined || s2 === undefined) return null;
  const [lon1, lat1] = decodeScore(s1);
  const [lon2, lat2] = decodeScore(s2);
  return distanceReply(distance(lon1, lat1, lon2, lat2) / toMeters);
}

function geohash(c: CommandContext, args: Buffer[]): Reply {
  const z = readZset(c, args[1]!);
  const out: Reply[] = [];
  for (let i = 2; i < args.length; i++) {
    const score = z?.score(str(args[i]!));
    out.push(score === undefined ? null : bulk(geohashString(score)));
  }
  return out;
}

// --- searches ---------------------------------------------------------------------

type SearchKind = 'radius' | 'radiusbymember' | 'search' | 'searchstore';

interface Found {
  member: string;
  score: number;
  longitude: number;
  latitude: number;
  dist: number;
}

const memberMissing = () => new ErrorReply('ERR could not decode requested zset member');

/** The point of a member, for FROMMEMBER and GEORADIUSBYMEMBER. */
function memberPoint(z: ZSetValue, member: Buffer): [number, number] {
  const score = z.score(str(member));
  if (score === undefined) throw memberMissing();
  return decodeScore(score);
}

/** A radius (and its unit) at args[at]. */
function radiusArg(args: Buffer[], at: number): { radius: number; conversion: number } {
  const radius = floatArg(args[at]!, 'need numeric radius');
  if (radius < 0) throw new ErrorReply('ERR radius cannot be negative');
  return { radius, conversion: unitArg(args[at + 1]!) };
}

/** Members within the shape, in the order the boxes are scanned; at most `limit` (0: all). */
function findWithin(z: ZSetValue, shape: Shape, limit: number): Found[] {
  const found: Found[] = [];
  for (const [min, max] of searchRanges(shape)) {
    if (limit > 0 && found.length >= limit) break;
    const inRange = z.rangeByScore({ min, minex: false, max, maxex: true, reverse: false, offset: 0, count: -1 });
    for (const [member, score] of inRange) {
      const [longitude, latitude] = decodeScore(score);
      const dist = distanceIfWithin(shape, longitude, latitude);
      if (dist === undefined) continue;
      found.push({ member, score, longitude, latitude, dist });
      if (limit > 0 && found.length >= limit) break;
    }
  }
  return found;
}

/**
 * GEORADIUS[_RO], GEORADIUSBYMEMBER[_RO], GEOSEARCH, GEOSEARCHSTORE: their
 * arguments checked in Redis's order (the source's type first, then each
 * option as it comes, then the combinations), then the search.
 */
function search(kind: SearchKind, readOnly: boolean) {
  return (c: CommandContext, args: Buffer[]): Reply => {
    const geoSearch = kind === 'search' || kind === 'searchstore';
    const srcAt = kind === 'searchstore' ? 2 : 1;
    const z = readZset(c, args[srcAt]!);
    let center: [number, number] | undefined;
    let radius: { radius: number; conversion: number } | undefined;
    let box: { width: number; height: number; conversion: number } | undefined;
    let base: number;
    let storeKey: Buffer | undefined = kind === 'searchstore' ? args[1] : undefined;
    let storeDist = false;
    if (kind === 'radius') {
      base = 6;
      center = lonLatArg(args, 2);
      radius = radiusArg(args, 4);
    } else if (kind === 'radiusbymember') {
      base = 5;
      if (z !== undefined) {
        center = memberPoint(z, args[2]!);
        radius = radiusArg(args, 3);
      }
    } else {
      base = srcAt + 1;
    }
    let withDist = false;
    let withHash = false;
    let withCoord = false;
    let any = false;
    let sort: 'asc' | 'desc' | undefined;
    let count = 0;
    let fromMember = false;
    let fromLonLat = false;
    const remaining = args.length - base;
    for (let i = 0; i < remaining; i++) {
      const at = base + i;
      const o = keyword(args[at]!);
      if (o === 'WITHDIST') withDist = true;
      else if (o === 'WITHHASH') withHash = true;
      else if (o === 'WITHCOORD') withCoord = true;
      else if (o === 'ANY') any = true;
      else if (o === 'ASC') sort = 'asc';
      else if (o === 'DESC') sort = 'desc';
      else if (o === 'COUNT' && i + 1 < remaining) {
        count = longArg(args[at + 1]!);
        if (count <= 0) throw new ErrorReply('ERR COUNT must be > 0');
        i++;
      } else if ((o === 'STORE' || o === 'STOREDIST') && i + 1 < remaining && !readOnly && !geoSearch) {
        storeKey = args[at + 1];
        storeDist = o === 'STOREDIST';
        i++;
      } else if (o === 'STOREDIST' && kind === 'searchstore') {
        storeDist = true;
      } else if (o === 'FROMMEMBER' && i + 1 < remaining && geoSearch && !fromLonLat) {
        // without a source key the arguments are still checked, then the empty reply
        if (z !== undefined) center = memberPoint(z, args[at + 1]!);
        fromMember = true;
        i++;
      } else if (o === 'FROMLONLAT' && i + 2 < remaining && geoSearch && !fromMember) {
        center = lonLatArg(args, at + 1);
        fromLonLat = true;
        i += 2;
      } else if (o === 'BYRADIUS' && i + 2 < remaining && geoSearch && box === undefined) {
        radius = radiusArg(args, at + 1);
        i += 2;
      } else if (o === 'BYBOX' && i + 3 < remaining && geoSearch && radius === undefined) {
        const width = floatArg(args[at + 1]!, 'need numeric width');
        const height = floatArg(args[at + 2]!, 'need numeric height');
        if (height < 0 || width < 0) throw new ErrorReply('ERR height or width cannot be negative');
        box = { width, height, conversion: unitArg(args[at + 3]!) };
        i += 3;
      } else {
        throw Errors.syntax();
      }
    }
    if (storeKey !== undefined && (withDist || withHash || withCoord)) {
      const what = kind === 'searchstore' ? 'GEOSEARCHSTORE' : 'STORE option in GEORADIUS';
      throw new ErrorReply(`ERR ${what} is not compatible with WITHDIST, WITHHASH and WITHCOORD options`);
    }
    if (geoSearch && !(fromMember || fromLonLat)) {
      throw new ErrorReply(`ERR exactly one of FROMMEMBER or FROMLONLAT can be specified for ${str(args[0]!)}`);
    }
    if (geoSearch && radius === undefined && box === undefined) {
      throw new ErrorReply(`ERR exactly one of BYRADIUS and BYBOX can be specified for ${str(args[0]!)}`);
    }
    if (any && count === 0) throw new ErrorReply('ERR the ANY argument requires COUNT argument');

    if (z === undefined) {
      if (storeKey === undefined) return [];
      storeCollection(c, storeKey, 'zset', new ZSetValue(), 'geosearchstore', args);
      return 0;
    }
    const [longitude, latitude] = center!;
    const shape: Shape = box !== undefined
      ? { kind: 'box', longitude, latitude, ...box }
      : { kind: 'radius', longitude, latitude, ...radius! };
    // COUNT without an order means the closest ones (but for ANY)
    if (count > 0 && sort === undefined && !any) sort = 'asc';
    const found = findWithin(z, shape, any ? count : 0);
    if (sort === 'asc') found.sort((a, b) => a.dist - b.dist);
    else if (sort === 'desc') found.sort((a, b) => b.dist - a.dist);
    const returned = count === 0 ? found : found.slice(0, count);
    const conversion = shape.conversion;

    if (storeKey !== undefined) {
      const out = new ZSetValue();
      out.compact = false;
      for (const p of returned) out.set(p.member, storeDist ? p.dist / conversion : p.score);
      const limits = listpackLimits(c);
      out.compactIfFits(limits.entries, limits.bytes);
      // deterministic given the data: the command is its own effect, as Redis replicates it
      storeCollection(c, storeKey, 'zset', out, geoSearch ? 'geosearchstore' : 'georadiusstore', args);
      return returned.length;
    }
    const options = (withDist ? 1 : 0) + (withHash ? 1 : 0) + (withCoord ? 1 : 0);
    return returned.map((p): Reply => {
      if (options === 0) return bulk(p.member);
      const item: Reply[] = [bulk(p.member)];
      if (withDist) item.push(distanceReply(p.dist / conversion));
      if (withHash) item.push(hashReply(p.score));
      if (withCoord) item.push([coordinateReply(c, p.longitude), coordinateReply(c, p.latitude)]);
      return item;
    });
  };
}

/** GEORADIUS[BYMEMBER]'s keys: the source and each STORE/STOREDIST key (as the key specs name them; the last one is written). */
function radiusKeyPositions(base: number) {
  return (args: Buffer[]): number[] => {
    const keys = [1];
    for (let i = base; i < args.length; i++) {
      const o = keyword(args[i]!);
      if ((o === 'STORE' || o === 'STOREDIST') && i + 1 < args.length) keys.push(++i);
    }
    return keys;
  };
}

/** GEOADD reads and writes only the members it names (after its options), as ZADD. */
function geoaddAccess(args: Buffer[]): Access {
  let at = 2;
  while (at < args.length && ['NX', 'XX', 'CH'].includes(keyword(args[at]!))) at++;
  const names: string[] = [];
  for (let i = at + 2; i < args.length; i += 3) names.push(str(args[i]!));
  return members(names);
}

const ONE_KEY = { first: 1, last: 1, step: 1 };
const G = 'geo';

export const geoCommands: CommandDef[] = [
  { name: 'geoadd', keys: ONE_KEY, access: geoaddAccess, group: G, handler: geoadd },
  { name: 'geopos', keys: ONE_KEY, access: (args) => members(args.slice(2).map(str)), group: G, handler: geopos },
  { name: 'geodist', keys: ONE_KEY, access: (args) => members([str(args[2]!), str(args[3]!)]), group: G, handler: geodist },
  { name: 'geohash', keys: ONE_KEY, access: (args) => members(args.slice(2).map(str)), group: G, handler: geohash },
  { name: 'georadius', movableKeys: radiusKeyPositions(6), group: G, handler: search('radius', false) },
  { name: 'georadius_ro', keys: ONE_KEY, group: G, handler: search('radius', true) },
  { name: 'georadiusbymember', movableKeys: radiusKeyPositions(5), group: G, handler: search('radiusbymember', false) },
  { name: 'georadiusbymember_ro', keys: ONE_KEY, group: G, handler: search('radiusbymember', true) },
  { name: 'geosearch', keys: ONE_KEY, group: G, handler: search('search', true) },
  { name: 'geosearchstore', keys: { first: 1, last: 2, step: 1 }, group: G, handler: search('searchstore', false) },
];
