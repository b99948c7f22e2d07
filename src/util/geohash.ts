/**
 * Geohashes as Redis's GEO commands compute them: a longitude/latitude pair
 * becomes a 52-bit integer (26 bits of each, interleaved: latitude in the
 * even bits, longitude in the odd ones) used as a sorted-set score, and a
 * search scans the score ranges of the 3x3 boxes around the centre at a box
 * size chosen from the radius. Every figure must match Redis's to the last
 * bit: the scores are visible (ZSCORE, WITHHASH), and which members a search
 * finds and in what order follows from these boxes.
 *
 * Scores are exact in a double (< 2^53). Decoding, done per member in a
 * search, works on two 32-bit halves; the rarer box arithmetic uses BigInt.
 */

export const GEO_STEP_MAX = 26;
export const GEO_LAT_MIN = -85.05112878;
export const GEO_LAT_MAX = 85.05112878;
export const GEO_LONG_MIN = -180;
export const GEO_LONG_MAX = 180;
const EARTH_RADIUS_IN_METERS = 6372797.560856;
const MERCATOR_MAX = 20037726.37;

export interface Range {
  min: number;
  max: number;
}

/** A box: `bits` at `step` bits per coordinate (0 / 0: no box). */
export interface HashBits {
  bits: bigint;
  step: number;
}

export interface Area {
  longitude: Range;
  latitude: Range;
}

const TWO_32 = 2 ** 32;
const WGS84_LONG: Range = { min: GEO_LONG_MIN, max: GEO_LONG_MAX };
const WGS84_LAT: Range = { min: GEO_LAT_MIN, max: GEO_LAT_MAX };

const degToRad = (d: number) => d * (Math.PI / 180);
const radToDeg = (r: number) => r / (Math.PI / 180);

/** The 16 low bits of `x`, spread to the even bits of a 32-bit result. */
function spread(x: number): number {
  x &= 0xffff;
  x = (x | (x << 8)) & 0x00ff00ff;
  x = (x | (x << 4)) & 0x0f0f0f0f;
  x = (x | (x << 2)) & 0x33333333;
  x = (x | (x << 1)) & 0x55555555;
  return x >>> 0;
}

/** The even bits of a 32-bit `x`, packed into 16 bits. */
function squash(x: number): number {
  x &= 0x55555555;
  x = (x | (x >>> 1)) & 0x33333333;
  x = (x | (x >>> 2)) & 0x0f0f0f0f;
  x = (x | (x >>> 4)) & 0x00ff00ff;
  x = (x | (x >>> 8)) & 0x0000ffff;
  return x;
}

/** Interleave two 32-bit integers: `even`'s bits at the even positions, `odd`'s at the odd ones. */
function interleave(even: number, odd: number): bigint {
  const lo = (spread(even) | (spread(odd) << 1)) >>> 0;
  const hi = (spread(even >>> 16) | (spread(odd >>> 16) << 1)) >>> 0;
  return (BigInt(hi) << 32n) | BigInt(lo);
}

/** `v` (an integer, -2^63 <= v < 2^64) as the two 32-bit halves of its 64-bit two's complement. */
function halves(v: number): [hi: number, lo: number] {
  const hi = Math.floor(v / TWO_32);
  return [hi >>> 0, (v - hi * TWO_32) >>> 0];
}

const INDEFINITE: [number, number] = [0x80000000, 0];

/**
 * A score as C's cast to uint64_t gives it on x86-64 (Redis decodes any
 * member's score, not only scores GEOADD wrote): truncation below 2^63,
 * two's complement for negatives, and the "integer indefinite" value
 * 0x8000000000000000 where the conversion overflows.
 */
function scoreBits(score: number): [hi: number, lo: number] {
  if (Number.isNaN(score)) return INDEFINITE;
  if (score >= 2 ** 63) {
    const rest = score - 2 ** 63;
    if (rest >= 2 ** 63) return [0, 0];
    const [hi, lo] = halves(Math.trunc(rest));
    return [(hi | 0x80000000) >>> 0, lo];
  }
  const v = Math.trunc(score);
  if (v < -(2 ** 63)) return INDEFINITE;
  return halves(v);
}

/** Encode a point at `step` bits per coordinate in these ranges; null outside them. */
export function encode(longRange: Range, latRange: Range, longitude: number, latitude: number, step: number): HashBits | null {
  if (longitude > 180 || longitude < -180 || latitude > GEO_LAT_MAX || latitude < GEO_LAT_MIN) return null;
  if (latitude < latRange.min || latitude > latRange.max || longitude < longRange.min || longitude > longRange.max) return null;
  const scale = 2 ** step;
  // C converts the offsets to uint32 by truncation
  const latOffset = Math.trunc(((latitude - latRange.min) / (latRange.max - latRange.min)) * scale) >>> 0;
  const longOffset = Math.trunc(((longitude - longRange.min) / (longRange.max - longRange.min)) * scale) >>> 0;
  return { bits: interleave(latOffset, longOffset), step };
}

/** The score GEOADD stores for a point (within the WGS84 limits, checked by the caller). */
export function geoScore(longitude: number, latitude: number): number {
  const hash = encode(WGS84_LONG, WGS84_LAT, longitude, latitude, GEO_STEP_MAX)!;
  return Number(align52(hash));
}

/** A box's bits shifted to a full 52-bit score. */
function align52(hash: HashBits): bigint {
  return hash.bits << BigInt(52 - hash.step * 2);
}

/** The box of a `step`-bit hash given as its two 32-bit halves. */
function decodeHalves(longRange: Range, latRange: Range, hi: number, lo: number, step: number): Area {
  const lat = squash(lo) + squash(hi) * 65536;
  const long = squash(lo >>> 1) + squash(hi >>> 1) * 65536;
  const scale = 2 ** step;
  const latScale = latRange.max - latRange.min;
  const longScale = longRange.max - longRange.min;
  return {
    latitude: { min: latRange.min + (lat / scale) * latScale, max: latRange.min + ((lat + 1) / scale) * latScale },
    longitude: { min: longRange.min + (long / scale) * longScale, max: longRange.min + ((long + 1) / scale) * longScale },
  };
}

function decodeBits(longRange: Range, latRange: Range, hash: HashBits): Area {
  return decodeHalves(longRange, latRange, Number(hash.bits >> 32n) >>> 0, Number(hash.bits & 0xffffffffn) >>> 0, hash.step);
}

/** The centre of a box, clamped to the WGS84 limits. */
function centre(area: Area): [longitude: number, latitude: number] {
  let x = (area.longitude.min + area.longitude.max) / 2;
  if (x > GEO_LONG_MAX) x = GEO_LONG_MAX;
  if (x < GEO_LONG_MIN) x = GEO_LONG_MIN;
  let y = (area.latitude.min + area.latitude.max) / 2;
  if (y > GEO_LAT_MAX) y = GEO_LAT_MAX;
  if (y < GEO_LAT_MIN) y = GEO_LAT_MIN;
  return [x, y];
}

/** The point a GEO score stands for. */
export function decodeScore(score: number): [longitude: number, latitude: number] {
  const [hi, lo] = scoreBits(score);
  return centre(decodeHalves(WGS84_LONG, WGS84_LAT, hi, lo, GEO_STEP_MAX));
}

const GEO_ALPHABET = '0123456789bcdefghjkmnpqrstuvwxyz';

/** The standard 11-character geohash of a stored point (GEOHASH): re-encoded with latitudes -90..90. */
export function geohashString(score: number): string {
  const [x, y] = decodeScore(score);
  const hash = encode({ min: -180, max: 180 }, { min: -90, max: 90 }, x, y, GEO_STEP_MAX);
  const bits = hash?.bits ?? 0n;
  let out = '';
  for (let i = 0; i < 11; i++) {
    // 52 bits make 10 characters and 2 bits; the 11th is 0, as Redis answers
    const idx = i === 10 ? 0 : Number((bits >> BigInt(52 - (i + 1) * 5)) & 0x1fn);
    out += GEO_ALPHABET[idx];
  }
  return out;
}

/** Meters along the meridian between two latitudes. */
function latDistance(lat1: number, lat2: number): number {
  return EARTH_RADIUS_IN_METERS * Math.abs(degToRad(lat2) - degToRad(lat1));
}

/** Great-circle distance in meters (haversine), as Redis computes it. */
export function distance(lon1: number, lat1: number, lon2: number, lat2: number): number {
  const lon1r = degToRad(lon1);
  const lon2r = degToRad(lon2);
  const v = Math.sin((lon2r - lon1r) / 2);
  // same longitude: the cheaper formula, as Redis takes it
  if (v === 0) return latDistance(lat1, lat2);
  const lat1r = degToRad(lat1);
  const lat2r = degToRad(lat2);
  const u = Math.sin((lat2r - lat1r) / 2);
  const a = u * u + Math.cos(lat1r) * Math.cos(lat2r) * v * v;
  return 2 * EARTH_RADIUS_IN_METERS * Math.asin(Math.sqrt(a));
}

/** What a search covers: a circle (radius) or a box (width x height), in meters once multiplied by `conversion`. */
export type Shape =
  | { kind: 'radius'; longitude: number; latitude: number; conversion: number; radius: number }
  | { kind: 'box'; longitude: number; latitude: number; conversion: number; width: number; height: number };

/** The distance from the shape's centre to a point inside it, or undefined when it is outside. */
export function distanceIfWithin(shape: Shape, longitude: number, latitude: number): number | undefined {
  if (shape.kind === 'radius') {
    const d = distance(shape.longitude, shape.latitude, longitude, latitude);
    return d > shape.radius * shape.conversion ? undefined : d;
  }
  const height = shape.height * shape.conversion;
  const width = shape.width * shape.conversion;
  if (latDistance(latitude, shape.latitude) > height / 2) return undefined;
  if (distance(longitude, latitude, shape.longitude, latitude) > width / 2) return undefined;
  return distance(shape.longitude, shape.latitude, longitude, latitude);
}

/** The box size (bits per coordinate) whose boxes around a point cover `meters` at this latitude. */
function stepsForRadius(meters: number, latitude: number): number {
  if (meters === 0) return 26;
  let step = 1;
  while (meters < MERCATOR_MAX) {
    meters *= 2;
    step++;
  }
  step -= 2; // so that the range fits in most cases
  // boxes narrow towards the poles
  if (latitude > 66 || latitude < -66) {
    step--;
    if (latitude > 80 || latitude < -80) step--;
  }
  return Math.min(26, Math.max(1, step));
}

/** [min longitude, min latitude, max longitude, max latitude] around the shape. */
function boundingBox(shape: Shape): [number, number, number, number] {
  const { longitude, latitude } = shape;
  const height = shape.conversion * (shape.kind === 'radius' ? shape.radius : shape.height / 2);
  const width = shape.conversion * (shape.kind === 'radius' ? shape.radius : shape.width / 2);
  const latDelta = radToDeg(height / EARTH_RADIUS_IN_METERS);
  const longDeltaTop = radToDeg(width / EARTH_RADIUS_IN_METERS / Math.cos(degToRad(latitude + latDelta)));
  const longDeltaBottom = radToDeg(width / EARTH_RADIUS_IN_METERS / Math.cos(degToRad(latitude - latDelta)));
  // the hemispheres widen towards opposite edges
  const southern = latitude < 0;
  return [
    southern ? longitude - longDeltaBottom : longitude - longDeltaTop,
    latitude - latDelta,
    southern ? longitude + longDeltaBottom : longitude + longDeltaTop,
    latitude + latDelta,
  ];
}

const EVEN_BITS = 0x5555555555555555n;
const ODD_BITS = 0xaaaaaaaaaaaaaaaan;
const MASK64 = 0xffffffffffffffffn;

/** Move a box by one in longitude (odd bits: `axis` 'x') or latitude (even bits: 'y'). */
function move(hash: HashBits, axis: 'x' | 'y', d: number): HashBits {
  if (d === 0) return hash;
  const shift = BigInt(64 - hash.step * 2);
  const [own, other] = axis === 'x' ? [ODD_BITS, EVEN_BITS] : [EVEN_BITS, ODD_BITS];
  let v = hash.bits & own;
  const keep = hash.bits & other;
  const zz = other >> shift;
  if (d > 0) v = (v + (zz + 1n)) & MASK64;
  else v = ((v | zz) - (zz + 1n)) & MASK64;
  v &= own >> shift;
  return { bits: v | keep, step: hash.step };
}

const NO_BOX: HashBits = { bits: 0n, step: 0 };

/**
 * The score ranges [min, max) a search scans, in Redis's order: the centre's
 * box, then north, south, east, west, north-east, north-west, south-east,
 * south-west (boxes that cannot hold a match left out, repeats skipped).
 */
export function searchRanges(shape: Shape): Array<[min: number, max: number]> {
  const [minLon, minLat, maxLon, maxLat] = boundingBox(shape);
  const radiusMeters =
    (shape.kind === 'radius' ? shape.radius : Math.sqrt((shape.width / 2) ** 2 + (shape.height / 2) ** 2)) * shape.conversion;
  let steps = stepsForRadius(radiusMeters, shape.latitude);
  const around = (step: number) => {
    const hash = encode(WGS84_LONG, WGS84_LAT, shape.longitude, shape.latitude, step) ?? { bits: 0n, step };
    return {
      hash,
      north: move(hash, 'y', 1),
      south: move(hash, 'y', -1),
      east: move(hash, 'x', 1),
      west: move(hash, 'x', -1),
      northEast: move(move(hash, 'x', 1), 'y', 1),
      northWest: move(move(hash, 'x', -1), 'y', 1),
      southEast: move(move(hash, 'x', 1), 'y', -1),
      southWest: move(move(hash, 'x', -1), 'y', -1),
    };
  };
  let n = around(steps);
  // Near a box edge the estimated size may leave part of the shape outside the 3x3 boxes: one size up.
  const decrease =
    decodeBits(WGS84_LONG, WGS84_LAT, n.north).latitude.max < maxLat ||
    decodeBits(WGS84_LONG, WGS84_LAT, n.south).latitude.min > minLat ||
    decodeBits(WGS84_LONG, WGS84_LAT, n.east).longitude.max < maxLon ||
    decodeBits(WGS84_LONG, WGS84_LAT, n.west).longitude.min > minLon;
  if (steps > 1 && decrease) n = around(--steps);
  const area = decodeBits(WGS84_LONG, WGS84_LAT, n.hash);
  const boxes = { ...n };
  if (steps >= 2) {
    if (area.latitude.min < minLat) boxes.south = boxes.southWest = boxes.southEast = NO_BOX;
    if (area.latitude.max > maxLat) boxes.north = boxes.northEast = boxes.northWest = NO_BOX;
    if (area.longitude.min < minLon) boxes.west = boxes.southWest = boxes.northWest = NO_BOX;
    if (area.longitude.max > maxLon) boxes.east = boxes.southEast = boxes.northEast = NO_BOX;
  }
  const order = [boxes.hash, boxes.north, boxes.south, boxes.east, boxes.west, boxes.northEast, boxes.northWest, boxes.southEast, boxes.southWest];
  const out: Array<[number, number]> = [];
  // Very large radii: neighbours can be the same box. As in Redis, a box is
  // compared with the last neighbour scanned (never with the centre).
  let last = 0;
  for (let i = 0; i < order.length; i++) {
    const box = order[i]!;
    if (box.bits === 0n && box.step === 0) continue;
    if (last > 0 && box.bits === order[last]!.bits && box.step === order[last]!.step) continue;
    out.push([Number(align52(box)), Number(align52({ bits: box.bits + 1n, step: box.step }))]);
    last = i;
  }
  return out;
}
