/**
 * redis.conf / pika.conf style files.
 *
 * One directive per line: `name arg [arg ...]`. Lines starting with `#` are
 * comments. Arguments are split like Redis's sdssplitargs: "double quoted"
 * with escapes (\n \r \t \b \a \\ \" \xHH), 'single quoted' (only \'), or
 * bare words. `include path` reads another file (relative to the including
 * file). Pika's `name : value` form is accepted too.
 *
 * This module only reads and writes directives; their meaning (option names,
 * repeated lines, validation) is load.ts's business.
 */
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { ConfigError } from './schema.js';

/** One directive line. */
export interface ConfDirective {
  /** Directive name, lower case. */
  readonly name: string;
  readonly args: readonly string[];
  /** Absolute path of the file it is in. */
  readonly file: string;
  /** 1-based line number. */
  readonly line: number;
}

const MAX_INCLUDE_DEPTH = 16;

/**
 * Split a line into arguments like Redis's sdssplitargs. Returns undefined
 * for unbalanced quotes or a closing quote not followed by a space.
 */
export function splitArgs(line: string): string[] | undefined {
  const out: string[] = [];
  let i = 0;
  const n = line.length;
  const isSpace = (c: string | undefined) => c === ' ' || c === '\t' || c === '\n' || c === '\r' || c === '\v' || c === '\f';
  for (;;) {
    while (i < n && isSpace(line[i])) i++;
    if (i >= n) return out;
    let cur = '';
    let inDouble = false;
    let inSingle = false;
    for (;;) {
      const c = line[i];
      if (inDouble) {
        if (c === undefined) return undefined;
        if (c === '\\' && line[i + 1] === 'x' && isHex(line[i + 2]) && isHex(line[i + 3])) {
          cur += String.fromCharCode(parseInt(line.slice(i + 2, i + 4), 16));
          i += 4;
          continue;
        }
        if (c === '\\' && i + 1 < n) {
          const e = line[i + 1]!;
          cur += e === 'n' ? '\n' : e === 'r' ? '\r' : e === 't' ? '\t' : e === 'b' ? '\b' : e === 'a' ? '\x07' : e;
          i += 2;
          continue;
        }
        if (c === '"') {
          // The closing quote must end the argument.
          if (i + 1 < n && !isSpace(line[i + 1])) return undefined;
          i++;
          break;
        }
        cur += c;
        i++;
      } else if (inSingle) {
        if (c === undefined) return undefined;
        if (c === '\\' && line[i + 1] === "'") {
          cur += "'";
          i += 2;
          continue;
        }
        if (c === "'") {
          if (i + 1 < n && !isSpace(line[i + 1])) return undefined;
          i++;
          break;
        }
        cur += c;
        i++;
      } else {
        // Like sdssplitargs, only space, tab, CR and LF end a bare word.
        if (c === undefined || c === ' ' || c === '\t' || c === '\n' || c === '\r') break;
        if (c === '"') inDouble = true;
        else if (c === "'") inSingle = true;
        else cur += c;
        i++;
      }
    }
    out.push(cur);
  }
}

function isHex(c: string | undefined): boolean {
  return c !== undefined && /^[0-9a-fA-F]$/.test(c);
}

/** Quote one argument for a config file, only when it needs it. */
export function quoteConfArg(arg: string): string {
  if (arg !== '' && /^[\x21-\x7e]+$/.test(arg) && !/["'\\]/.test(arg) && !arg.startsWith('#')) return arg;
  let out = '"';
  for (const ch of arg) {
    const code = ch.charCodeAt(0);
    if (ch === '\\' || ch === '"') out += `\\${ch}`;
    else if (ch === '\n') out += '\\n';
    else if (ch === '\r') out += '\\r';
    else if (ch === '\t') out += '\\t';
    else if (ch === '\b') out += '\\b';
    else if (ch === '\x07') out += '\\a';
    else if (code < 0x20 || code === 0x7f) out += `\\x${code.toString(16).padStart(2, '0')}`;
    else out += ch;
  }
  return out + '"';
}

/**
 * Format a directive line. A string value is one argument; an array is
 * several arguments (an empty array is written as `""`).
 */
export function formatDirective(name: string, value: string | readonly string[]): string {
  const args = typeof value === 'string' ? [value] : value.length === 0 ? [''] : value;
  return `${name} ${args.map(quoteConfArg).join(' ')}`;
}

/** Parse config text (no includes resolved) into [line number, args] pairs; throws ConfigError on bad quoting. */
export function parseConfText(text: string, file: string): Array<{ line: number; args: string[] }> {
  const out: Array<{ line: number; args: string[] }> = [];
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const trimmed = lines[i]!.trim();
    if (trimmed === '' || trimmed.startsWith('#')) continue;
    const args = splitArgs(trimmed);
    if (args === undefined) throw new ConfigError(`Unbalanced quotes in configuration line (${file}:${i + 1})`);
    if (args.length === 0) continue;
    // Pika style: "name : value" or "name: value".
    if (args.length >= 2 && args[1] === ':') args.splice(1, 1);
    else if (args[0]!.length > 1 && args[0]!.endsWith(':')) args[0] = args[0]!.slice(0, -1);
    out.push({ line: i + 1, args });
  }
  return out;
}

/**
 * Read a config file and the files it includes, in order. `include` lines
 * are replaced by the directives of the included file.
 */
export function readConfFile(file: string): ConfDirective[] {
  const out: ConfDirective[] = [];
  const visit = (f: string, stack: string[]) => {
    const abs = path.resolve(f);
    if (stack.includes(abs)) throw new ConfigError(`Config file ${abs} includes itself (${stack.join(' -> ')})`);
    if (stack.length >= MAX_INCLUDE_DEPTH) throw new ConfigError(`Too many nested includes at ${abs}`);
    let text: string;
    try {
      text = fs.readFileSync(abs, 'utf8');
    } catch (e) {
      const where = stack.length ? ` (included from ${stack[stack.length - 1]})` : '';
      throw new ConfigError(`Cannot read config file ${abs}: ${(e as Error).message}${where}`);
    }
    for (const { line, args } of parseConfText(text, abs)) {
      const name = args[0]!.toLowerCase();
      if (name === 'include') {
        if (args.length !== 2) throw new ConfigError(`'include' takes exactly one path (${abs}:${line})`);
        visit(path.resolve(path.dirname(abs), args[1]!), [...stack, abs]);
        continue;
      }
      out.push({ name, args: args.slice(1), file: abs, line });
    }
  };
  visit(file, []);
  return out;
}

export const REWRITE_SIGNATURE = '# Generated by CONFIG REWRITE';

export interface RewriteOptions {
  /** Map a directive name (possibly an alias, lower case) to the key used in `changed`; default: itself. */
  canonical?: (name: string) => string | undefined;
  /**
   * Directives that may appear on several lines (`user`): every line of one is
   * replaced by these lines (full lines), written where its first line was or
   * appended; an empty list removes them all.
   */
  repeated?: ReadonlyMap<string, readonly string[]>;
}

/**
 * Like Redis's CONFIG REWRITE: keep comments, blank lines, includes and
 * unknown lines; replace the first line of each option in `changed` (matched
 * by canonical name, so alias lines count) and drop its later duplicates;
 * append options not present at the end, after a "# Generated by CONFIG
 * REWRITE" line. `changed` maps canonical name -> value: a string is one
 * argument, an array several. Written atomically (temp file, fsync, rename,
 * fsync of the directory); a missing file is created.
 */
export async function rewriteConfFile(
  file: string,
  changed: ReadonlyMap<string, string | readonly string[]>,
  opts: RewriteOptions = {},
): Promise<void> {
  const canonical = opts.canonical ?? ((n: string) => n);
  let text = '';
  let mode: number | undefined;
  try {
    text = await fsp.readFile(file, 'utf8');
    mode = (await fsp.stat(file)).mode & 0o7777;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
  }
  const lines = text === '' ? [] : text.split(/\r?\n/);
  if (lines.length > 0 && lines[lines.length - 1] === '') lines.pop();

  const written = new Set<string>();
  const out: string[] = [];
  let hasSignature = false;
  for (const raw of lines) {
    const trimmed = raw.trim();
    if (trimmed === '' || trimmed.startsWith('#')) {
      if (trimmed === REWRITE_SIGNATURE) hasSignature = true;
      out.push(raw);
      continue;
    }
    const args = splitArgs(trimmed);
    let name = args?.[0]?.toLowerCase();
    if (name !== undefined && name.length > 1 && name.endsWith(':')) name = name.slice(0, -1);
    const repeatedLines = name === undefined ? undefined : opts.repeated?.get(name);
    if (repeatedLines !== undefined) {
      if (!written.has(`repeated:${name!}`)) out.push(...repeatedLines);
      written.add(`repeated:${name!}`);
      continue;
    }
    const key = name === undefined ? undefined : canonical(name);
    if (key === undefined || !changed.has(key)) {
      out.push(raw);
      continue;
    }
    if (written.has(key)) continue; // later duplicate of a rewritten option
    written.add(key);
    out.push(formatDirective(key, changed.get(key)!));
  }
  const missing = [...changed.keys()].filter((k) => !written.has(k));
  const missingRepeated = [...(opts.repeated ?? new Map<string, readonly string[]>())].filter(([k, ls]) => !written.has(`repeated:${k}`) && ls.length > 0);
  if (missing.length > 0 || missingRepeated.length > 0) {
    if (!hasSignature) {
      if (out.length > 0 && out[out.length - 1]!.trim() !== '') out.push('');
      out.push(REWRITE_SIGNATURE);
    }
    for (const k of missing) out.push(formatDirective(k, changed.get(k)!));
    for (const [, ls] of missingRepeated) out.push(...ls);
  }
  await writeAtomic(file, out.join('\n') + '\n', mode);
}

/** Write a file atomically: temp file in the same directory, fsync, rename, fsync the directory. */
export async function writeAtomic(file: string, content: string, mode?: number): Promise<void> {
  const dir = path.dirname(path.resolve(file));
  const tmp = path.join(dir, `.${path.basename(file)}.tmp-${process.pid}-${Date.now().toString(36)}${Math.random().toString(36).slice(2, 8)}`);
  const fh = await fsp.open(tmp, 'w', mode ?? 0o644);
  try {
    await fh.writeFile(content, 'utf8');
    if (mode !== undefined) await fh.chmod(mode);
    await fh.sync();
  } catch (e) {
    await fh.close().catch(() => {});
    await fsp.rm(tmp, { force: true });
    throw e;
  }
  await fh.close();
  try {
    await fsp.rename(tmp, file);
  } catch (e) {
    await fsp.rm(tmp, { force: true });
    throw e;
  }
  try {
    const d = await fsp.open(dir, 'r');
    try {
      await d.sync();
    } finally {
      await d.close();
    }
  } catch {
    // Some platforms cannot fsync a directory; the rename is still atomic.
  }
}
