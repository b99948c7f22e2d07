/**
 * CRC-64/Jones as Redis computes it for DUMP payloads (reflected, polynomial
 * 0xad93d23594c935a9, initial value 0, no final xor): a table of 256 entries,
 * one byte per step. Check value: crc64("123456789") = 0xe9c6d914c4b8d9ca.
 */
const REFLECTED_POLY = 0x95ac9329ac4bc9b5n;
const MASK = 0xffffffffffffffffn;

const TABLE: bigint[] = (() => {
  const t: bigint[] = new Array(256);
  for (let n = 0; n < 256; n++) {
    let c = BigInt(n);
    for (let k = 0; k < 8; k++) c = c & 1n ? (c >> 1n) ^ REFLECTED_POLY : c >> 1n;
    t[n] = c;
  }
  return t;
})();

export function crc64(data: Uint8Array, crc = 0n): bigint {
  for (const byte of data) crc = (TABLE[Number((crc ^ BigInt(byte)) & 0xffn)]! ^ (crc >> 8n)) & MASK;
  return crc;
}
