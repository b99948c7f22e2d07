import fs from 'node:fs';
import tty from 'node:tty';
import { pino, type Logger as Pino } from 'pino';

export type LogLevel = 'debug' | 'verbose' | 'notice' | 'warning';
/** How log lines look: Redis's lines for people, pino's JSON for log collectors, or chosen by the destination. */
export type LogFormat = 'auto' | 'redis' | 'json';

const RANK: Record<LogLevel, number> = { debug: 0, verbose: 1, notice: 2, warning: 3 };
const MARK: Record<LogLevel, string> = { debug: '.', verbose: '-', notice: '*', warning: '#' };
/** pino's numbers for Redis's levels: debug and warn keep pino's own, so collectors map them. */
const PINO_LEVELS = { debug: 20, verbose: 25, notice: 30, warning: 40 } as const;

/**
 * The server's log. On a terminal: Redis-style lines
 * (`pid:role dd Mon yyyy hh:mm:ss.mmm * message`). Elsewhere (a pipe, a
 * container's stdout, a logfile): one pino JSON object per line, with
 * `level` named as Redis names it and the same message text, so the
 * familiar lines ("Ready to accept connections...") read the same in both.
 */
export class Logger {
  private current: LogLevel;
  private fd: number | undefined;
  private json: Pino<keyof typeof PINO_LEVELS> | undefined;

  constructor(level: LogLevel = 'notice', file = '', format: LogFormat = 'auto') {
    this.current = level;
    this.fd = file ? fs.openSync(file, 'a') : undefined;
    const fd = this.fd ?? 1;
    if (format === 'json' || (format === 'auto' && !isTerminal(fd))) {
      this.json = pino({
        name: 'talus',
        level,
        customLevels: PINO_LEVELS,
        useOnlyCustomLevels: true,
        timestamp: pino.stdTimeFunctions.isoTime,
        formatters: { level: (label) => ({ level: label }) },
      }, pino.destination({ dest: fd, sync: true }));
    }
  }

  get level(): LogLevel {
    return this.current;
  }

  set level(level: LogLevel) {
    this.current = level;
    if (this.json) this.json.level = level;
  }

  debug(msg: string): void { this.log('debug', msg); }
  verbose(msg: string): void { this.log('verbose', msg); }
  notice(msg: string): void { this.log('notice', msg); }
  warning(msg: string): void { this.log('warning', msg); }

  log(level: LogLevel, msg: string): void {
    if (RANK[level] < RANK[this.current]) return;
    if (this.json) {
      this.json[level](msg);
      return;
    }
    const d = new Date();
    const stamp = `${d.getUTCDate()} ${MONTHS[d.getUTCMonth()]} ${d.getUTCFullYear()} ${d.toISOString().slice(11, 23)}`;
    const line = `${process.pid}:M ${stamp} ${MARK[level]} ${msg}\n`;
    if (this.fd !== undefined) fs.writeSync(this.fd, line);
    else process.stdout.write(line);
  }

  close(): void {
    // later lines (a late warning) go to stdout as Redis lines, not to the closed file
    if (this.fd !== undefined) this.json = undefined;
    if (this.fd !== undefined) fs.closeSync(this.fd);
    this.fd = undefined;
  }
}

function isTerminal(fd: number): boolean {
  return fd === 1 ? process.stdout.isTTY === true : tty.isatty(fd);
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
