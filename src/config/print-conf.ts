/**
 * Generates the annotated sample config (talus.conf), .env.example and
 * docs/configuration.md from the schema. A unit test checks that the files at the repository root match,
 * so they never drift. Regenerate with:
 *
 *   npx tsc -b && node dist/src/config/print-conf.js --write
 *
 * Without --write the sample config is printed to standard output
 * (`--env` prints .env.example instead, `--docs` docs/configuration.md).
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { formatDirective } from './conf-file.js';
import { OPTIONS, effectNote, type OptionDef } from './schema.js';

function wrap(text: string, prefix: string, width = 79): string[] {
  const out: string[] = [];
  let line = prefix;
  for (const word of text.split(/\s+/).filter(Boolean)) {
    if (line.length > prefix.length && line.length + 1 + word.length > width) {
      out.push(line);
      line = prefix;
    }
    line += (line.length > prefix.length ? ' ' : '') + word;
  }
  if (line.length > prefix.length) out.push(line);
  return out;
}

function notes(def: OptionDef): string {
  const parts = [`Accepts ${def.kind.accepts}.`, `Env ${def.env.join(' or ')}.`];
  if (def.aliases.length) parts.push(`Alias: ${def.aliases.join(', ')}.`);
  parts.push(def.mutable ? 'CONFIG SET: yes.' : 'CONFIG SET: no (fixed at start-up).');
  return parts.join(' ');
}

const sectionTitle = (title: string) => {
  const bar = '#'.repeat(79);
  return [bar, `# ${title}`, bar];
};

/** The annotated sample config: every option at its default, with its doc. */
export function renderSampleConf(): string {
  const out: string[] = [
    '# Talus sample configuration (redis.conf syntax).',
    '#',
    '# Generated from src/config/schema.ts by',
    '#   npx tsc -b && node dist/src/config/print-conf.js --write',
    '# Do not edit by hand: change the schema and regenerate.',
    '#',
    '# Usage: talus /path/to/talus.conf [--option value ...]',
    '# Precedence: defaults < this file < environment (TALUS_*, .env) < command line.',
    '# Syntax: one "name value" per line; quote values with spaces ("..." or',
    "# '...'); \"include other.conf\" reads another file (relative to this one).",
    '# Memory sizes: 1048576, 100k (1000), 100kb (1024), 64m, 64mb, 1g, 1gb.',
    '# Every option below is set to its default.',
  ];
  let section = '';
  for (const def of OPTIONS) {
    if (def.section !== section) {
      section = def.section;
      out.push('', ...sectionTitle(section));
    }
    const note = effectNote(def);
    out.push('', ...wrap(def.doc, '# '), ...(note ? wrap(note, '# ') : []), ...wrap(notes(def), '#   '));
    out.push(formatDirective(def.name, def.confArgs(def.default)));
  }
  return out.join('\n') + '\n';
}

/** .env.example: every environment variable, commented out, at its default. */
export function renderEnvExample(): string {
  const out: string[] = [
    '# Talus environment variables.',
    '#',
    '# Generated from src/config/schema.ts by',
    '#   npx tsc -b && node dist/src/config/print-conf.js --write',
    '# Copy to .env (read from the working directory) and uncomment what you need.',
    '# The real environment wins over .env; the command line wins over both.',
    '# Values use config-file syntax (yes/no, 64mb, ...); every line shows the default.',
  ];
  let section = '';
  for (const def of OPTIONS) {
    if (def.section !== section) {
      section = def.section;
      out.push('', `# ---- ${section} ----`);
    }
    const text = def.show(def.default);
    const confText = (def.kind.conf ?? def.kind.show)(def.default as never);
    const value = /^[A-Za-z0-9_./:@%+,-]*$/.test(confText) ? confText : `"${confText.replace(/["\\]/g, '\\$&')}"`;
    const note = effectNote(def);
    out.push(...wrap(def.doc, '# '), ...(note ? wrap(note, '# ') : []));
    if (def.env.length > 1) out.push(`# Also read from ${def.env.slice(1).join(', ')}.`);
    out.push(`#${def.env[0]}=${text === '' ? '' : value}`);
  }
  return out.join('\n') + '\n';
}

/** Markdown cell text: pipes escaped, newlines folded. */
const cell = (text: string) => text.replace(/\|/g, '\\|').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/\s*\n\s*/g, ' ');

/** docs/configuration.md: every option, its default and what it does in Talus. */
export function renderConfigurationDoc(): string {
  const counts = { live: 0, 'no-effect': 0, 'not-built': 0 };
  for (const def of OPTIONS) counts[def.effect.kind]++;
  const out: string[] = [
    '# Configuration reference',
    '',
    '<!-- Generated from src/config/schema.ts by',
    '     npx tsc -b && node dist/src/config/print-conf.js --write',
    '     Do not edit by hand: change the schema and regenerate (a unit test checks it). -->',
    '',
    'Every option Talus accepts, with its default and its status in Talus:',
    '',
    `- **live** (${counts.live} options): does what Redis (or Pika) documents.`,
    `- **no effect** (${counts['no-effect']}): accepted for compatibility, so that existing redis.conf /`,
    '  pika.conf files and clients that set it keep working; nothing in Talus depends',
    '  on it, and the reason is given.',
    `- **not built** (${counts['not-built']}): the feature it configures is not built yet. Only the`,
    '  default is accepted; any other value is refused at start-up (config file,',
    '  environment, command line) and by CONFIG SET, with the reason.',
    '',
    'Options are set, lowest to highest precedence, by their default, in the config',
    'file as `name value`, in the environment as `TALUS_<NAME>` (also read from `.env`),',
    'on the command line as `--name value`, and at run time by CONFIG SET where',
    '"CONFIG SET" says yes. `talus --help` prints the same list.',
  ];
  let section = '';
  for (const def of OPTIONS) {
    if (def.section !== section) {
      section = def.section;
      out.push('', `## ${section}`, '', '| option | default | CONFIG SET | status | what it does |', '| --- | --- | --- | --- | --- |');
    }
    const dflt = (def.kind.conf ?? def.kind.show)(def.default as never);
    const names = [def.name, ...def.aliases].map((n) => `\`${n}\``).join(', ');
    const status = def.effect.kind === 'live' ? 'live' : def.effect.kind === 'no-effect' ? 'no effect' : 'not built';
    const what = [def.doc, effectNote(def)].filter(Boolean).join(' ');
    out.push(`| ${names} | ${dflt === '' ? '""' : `\`${cell(dflt)}\``} | ${def.mutable ? 'yes' : 'no'} | ${status} | ${cell(what)} |`);
  }
  return out.join('\n') + '\n';
}

/** Repository root (this file is dist/src/config/print-conf.js or src/config/print-conf.ts). */
export function repoRoot(): string {
  return path.resolve(path.dirname(fileURLToPath(import.meta.url)), import.meta.url.includes('/dist/') ? '../../..' : '../..');
}

if (process.argv[1] && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href) {
  const args = process.argv.slice(2);
  if (args.includes('--write')) {
    const root = repoRoot();
    fs.writeFileSync(path.join(root, 'talus.conf'), renderSampleConf());
    fs.writeFileSync(path.join(root, '.env.example'), renderEnvExample());
    fs.writeFileSync(path.join(root, 'docs', 'configuration.md'), renderConfigurationDoc());
    process.stdout.write(`wrote talus.conf, .env.example and docs/configuration.md in ${root}\n`);
  } else {
    process.stdout.write(args.includes('--env') ? renderEnvExample() : args.includes('--docs') ? renderConfigurationDoc() : renderSampleConf());
  }
}
