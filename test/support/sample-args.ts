/** Sample calls of a command built from its documented arguments (COMMAND DOCS). */

export interface DocArgument {
  name: string;
  type: string;
  token?: string;
  flags?: string[];
  arguments?: DocArgument[];
}

/**
 * Arguments for a call of the command, from its documented arguments: the
 * required ones only, or (`full`) every optional one too, each `multiple`
 * one twice, the first choice of each `oneof`. Keys are k1, k2...; a
 * `numkeys` count says 2, the number of times the key after it is given.
 */
export function sampleArguments(args: DocArgument[], full: boolean): string[] {
  let keyCount = 0;
  const out: string[] = [];
  const emit = (arg: DocArgument, chosen: boolean): void => {
    const flags = arg.flags ?? [];
    if (flags.includes('optional') && !full && !chosen) return;
    const times = flags.includes('multiple') ? 2 : 1;
    for (let i = 0; i < times; i++) {
      if (arg.token && (i === 0 || flags.includes('multiple_token'))) out.push(arg.token);
      switch (arg.type) {
        case 'key': out.push(`k${++keyCount}`); break;
        case 'integer': out.push(arg.name === 'numkeys' ? '2' : '1'); break;
        case 'double': out.push('1.5'); break;
        case 'unix-time': out.push('100'); break;
        case 'pure-token': break;
        case 'oneof': emit(arg.arguments![0]!, true); break;
        case 'block': for (const a of arg.arguments!) emit(a, false); break;
        default: out.push(arg.name === 'pattern' ? 'p*' : 'v');
      }
    }
  };
  for (const a of args) emit(a, false);
  return out;
}
