/**
 * LOLWUT [VERSION v]: computer art and the Redis version, as redis-server
 * 7.0.15 answers it. Versions 5 and 6 draw; every other version (and no
 * VERSION at all) answers only the version line. The art is random, in Redis
 * too, so what matches Redis is its shape: the canvas size derived from the
 * arguments, the clamping of those, the characters, and the closing text.
 * The sizes were established by experiment against redis-server 7.0.15.
 */
import type { CommandDef } from './table.js';
import { Errors } from './errors.js';
import { VerbatimReply, type Reply } from '../protocol/reply.js';
import { parseInteger } from '../util/numbers.js';
import { VERSION } from '../version.js';

const VERSION_LINE = `Redis ver. ${VERSION.redis}\n`;

/** An integer argument, or its default when absent; null when it does not parse (Redis's not-an-integer error). */
function intArg(args: Buffer[], index: number, fallback: number): number | null {
  const a = args[index];
  if (a === undefined) return fallback;
  const v = parseInteger(a);
  return v === null ? null : Number(v);
}

const clamp = (v: number, lo: number, hi: number) => Math.min(hi, Math.max(lo, v));

/** A black-and-white pixel canvas (version 5 draws on it, then prints it as Braille). */
class Canvas {
  readonly pixels: Uint8Array;
  constructor(readonly width: number, readonly height: number) {
    this.pixels = new Uint8Array(width * height);
  }

  set(x: number, y: number): void {
    if (x < 0 || y < 0 || x >= this.width || y >= this.height) return; // tilted squares may stick out
    this.pixels[y * this.width + x] = 1;
  }

  get(x: number, y: number): boolean {
    return x < this.width && y < this.height && this.pixels[y * this.width + x] === 1;
  }

  /** A straight line by stepping along its longer axis. */
  line(x0: number, y0: number, x1: number, y1: number): void {
    const steps = Math.max(Math.abs(x1 - x0), Math.abs(y1 - y0), 1);
    for (let i = 0; i <= steps; i++) {
      this.set(Math.round(x0 + ((x1 - x0) * i) / steps), Math.round(y0 + ((y1 - y0) * i) / steps));
    }
  }

  /**
   * One text row per 4 pixel rows, one Braille character per 2x4 pixel cell
   * (U+2800 plus one bit per raised dot). Redis ends every row with a newline
   * except one starting at the canvas's last pixel row; that quirk decides
   * whether a blank line precedes the caption, so it is kept.
   */
  toBraille(): string {
    // dot bits in the Braille block: left column rows 0-2 = bits 0-2, right column rows 0-2 = bits 3-5, row 3 = bits 6 (left), 7 (right)
    const BIT = [
      [0x01, 0x08],
      [0x02, 0x10],
      [0x04, 0x20],
      [0x40, 0x80],
    ];
    let out = '';
    for (let y = 0; y < this.height; y += 4) {
      for (let x = 0; x < this.width; x += 2) {
        let bits = 0;
        for (let dy = 0; dy < 4; dy++) {
          for (let dx = 0; dx < 2; dx++) if (this.get(x + dx, y + dy)) bits |= BIT[dy]![dx]!;
        }
        out += String.fromCharCode(0x2800 + bits);
      }
      if (y !== this.height - 1) out += '\n';
    }
    return out;
  }
}

/**
 * Version 5: after Georg Nees' "Schotter" (1968), a column of rows of squares
 * that start in order at the top and tumble more, rotated and displaced at
 * random, the lower the row.
 */
function schotter(cols: number, squaresPerRow: number, squaresPerCol: number): string {
  const width = cols * 2;
  const padding = width > 4 ? 2 : 0;
  const side = (width - padding * 2) / squaresPerRow;
  const canvas = new Canvas(width, Math.trunc(side * squaresPerCol) + padding * 2);
  for (let row = 0; row < squaresPerCol; row++) {
    const disorder = squaresPerCol > 1 ? row / (squaresPerCol - 1) : 0;
    for (let col = 0; col < squaresPerRow; col++) {
      const cx = padding + side * col + side / 2 + (Math.random() - 0.5) * side * disorder * 0.6;
      const cy = padding + side * row + side / 2 + (Math.random() - 0.5) * side * disorder * 0.6;
      const angle = (Math.random() - 0.5) * (Math.PI / 2) * disorder;
      const corners: [number, number][] = [];
      for (let k = 0; k < 4; k++) {
        const a = angle + Math.PI / 4 + (k * Math.PI) / 2;
        corners.push([cx + (Math.cos(a) * side) / Math.SQRT2, cy + (Math.sin(a) * side) / Math.SQRT2]);
      }
      for (let k = 0; k < 4; k++) {
        const [x0, y0] = corners[k]!;
        const [x1, y1] = corners[(k + 1) % 4]!;
        canvas.line(x0, y0, x1, y1);
      }
    }
  }
  return `${canvas.toBraille()}\nGeorg Nees - schotter, plotter on paper, 1968. ${VERSION_LINE}`;
}

/** The four shades version 6 paints with, dark to light: ANSI foreground;background. */
const SHADES = ['30;40', '90;100', '37;47', '97;107'];

/**
 * Version 6: a city skyline in four shades, one colored blank per cell:
 * a sky that darkens from the top down, dithered at its bands' edges, and in
 * front of it buildings of random width and height with lit windows.
 */
function skyline(cols: number, lines: number): string {
  const grid: number[][] = [];
  for (let y = 0; y < lines; y++) {
    const depth = lines > 1 ? y / (lines - 1) : 0; // 0 at the top
    const row: number[] = [];
    for (let x = 0; x < cols; x++) {
      const shade = 3 - (depth * 2.4 + (Math.random() - 0.5) * 0.5);
      row.push(clamp(Math.round(shade), 1, 3));
    }
    grid.push(row);
  }
  for (let x = 0; x < cols; ) {
    const buildingWidth = 2 + Math.floor(Math.random() * 6);
    const buildingHeight = Math.floor(lines * (0.2 + Math.random() * 0.6));
    const shade = Math.random() < 0.3 ? 1 : 0;
    for (let bx = x; bx < Math.min(cols, x + buildingWidth); bx++) {
      for (let y = lines - buildingHeight; y < lines; y++) {
        const window = bx > x && bx < x + buildingWidth - 1 && y > lines - buildingHeight && Math.random() < 0.25;
        grid[y]![bx] = window ? 2 : shade;
      }
    }
    x += buildingWidth + (Math.random() < 0.4 ? 1 : 0);
  }
  let out = '';
  for (const row of grid) {
    for (const shade of row) out += `\x1b[0;${SHADES[shade]}m \x1b[0m`;
    out += '\n';
  }
  return (
    out +
    'Dedicated to the 8 bit game developers of past and present.\n' +
    `Original 8 bit image from Plaguemon by hikikomori. ${VERSION_LINE}`
  );
}

function lolwut(_c: unknown, args: Buffer[]): Reply {
  let version = 0; // neither 5 nor 6: the version line alone
  if (args.length >= 3 && args[1]!.toString('latin1').toLowerCase() === 'version') {
    const v = intArg(args, 2, 0);
    if (v === null) return Errors.notInteger();
    version = v;
  }
  if (version === 5) {
    const cols = intArg(args, 3, 66);
    const perRow = intArg(args, 4, 8);
    const perCol = intArg(args, 5, 12);
    if (cols === null || perRow === null || perCol === null) return Errors.notInteger();
    return new VerbatimReply('txt', schotter(clamp(cols, 1, 1000), clamp(perRow, 1, 200), clamp(perCol, 1, 200)));
  }
  if (version === 6) {
    const cols = intArg(args, 3, 80);
    const lines = intArg(args, 4, 20);
    if (cols === null || lines === null) return Errors.notInteger();
    return new VerbatimReply('txt', skyline(clamp(cols, 1, 1000), clamp(lines, 1, 1000)));
  }
  return new VerbatimReply('txt', VERSION_LINE);
}

export const lolwutCommands: CommandDef[] = [
  {
    name: 'lolwut', arity: -1, flags: ['readonly', 'fast'], group: 'server', since: '5.0.0',
    summary: 'Display some computer art and the Redis version', handler: lolwut,
  },
];
