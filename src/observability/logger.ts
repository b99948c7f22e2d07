import fs from 'node:fs';

export type LogLevel = 'debug' | 'verbose' | 'notice' | 'warning';
const RANK: Record<LogLevel, number> = { debug: 0, verbose: 1, notice: 2, warning: 3 };
const MARK: Record<LogLevel, string> = { debug: '.', verbose: '-', notice: '*', warning: '#' };

/** Redis-style log lines: `pid:role dd Mon yyyy hh:mm:ss.mmm * message`. */
export class Logger {
  level: LogLevel;
  private fd: number | undefined;

  constructor(level: LogLevel = 'notice', file = '') {
    this.level = level;
    this.fd = file ? fs.openSync(file, 'a') : undefined;
  }

  debug(msg: string): void { this.log('debug', msg); }
  verbose(msg: string): void { this.log('verbose', msg); }
  notice(msg: string): void { this.log('notice', msg); }
  warning(msg: string): void { this.log('warning', msg); }

  log(level: LogLevel, msg: string): void {
    if (RANK[level] < RANK[this.level]) return;
    const d = new Date();
    const stamp = `${d.getUTCDate()} ${MONTHS[d.getUTCMonth()]} ${d.getUTCFullYear()} ${d.toISOString().slice(11, 23)}`;
    const line = `${process.pid}:M ${stamp} ${MARK[level]} ${msg}\n`;
    if (this.fd !== undefined) fs.writeSync(this.fd, line);
    else process.stdout.write(line);
  }

  close(): void {
    if (this.fd !== undefined) fs.closeSync(this.fd);
    this.fd = undefined;
  }
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
