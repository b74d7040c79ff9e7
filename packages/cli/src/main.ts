import { parseArgs } from 'node:util';
import { isDatasetTokenError } from '@pp-embed/dataset-token';
import { type Command, commands as tokenCommands } from './commands.js';
import { embedderCommands } from './embedder.js';
import { type Io, processIo, UsageError } from './io.js';

const commands: Record<string, Command> = { ...tokenCommands, ...embedderCommands };

function overview(): string {
  const width = Math.max(...Object.keys(commands).map((name) => name.length));
  const lines = Object.entries(commands).map(([name, c]) => `  ${name.padEnd(width)} ${c.summary}`);
  return [
    'pp-token: dataset access tokens for ProteinPaint embedding',
    '',
    'Commands:',
    ...lines,
    '',
    'pp-token COMMAND --help shows the options of a command.',
  ].join('\n');
}

/**
 * Runs the CLI and returns its exit code: 0 done, 1 a token was refused, 2 a usage or setup mistake.
 *
 * @example
 * process.exitCode = await main(['verify', '--secret-env', 'PP_DS_SECRET', token]);
 */
export async function main(argv: string[], io: Io = processIo): Promise<number> {
  const [first, ...rest] = argv;
  // `embedder` takes a subcommand: `pp-token embedder add …` is the command "embedder add".
  const name =
    first === 'embedder' && rest[0] !== undefined && !rest[0].startsWith('-')
      ? `${first} ${rest.shift()}`
      : first;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help' || name === 'embedder') {
    io.out(overview());
    return name === undefined ? 2 : 0;
  }
  const command: Command | undefined = Object.hasOwn(commands, name) ? commands[name] : undefined;
  if (command === undefined) {
    io.err(`unknown command ${name}\n\n${overview()}`);
    return 2;
  }
  try {
    const { values, positionals } = parseArgs({
      args: rest,
      options: { ...command.options, help: { type: 'boolean', short: 'h' } },
      allowPositionals: true,
      strict: true,
    });
    if (values.help === true) {
      io.out(`${command.summary}\n\nusage: ${command.usage}`);
      return 0;
    }
    return await command.run(values, positionals, io);
  } catch (error) {
    if (
      error instanceof UsageError ||
      (error instanceof TypeError && 'code' in error && String(error.code).startsWith('ERR_PARSE_ARGS'))
    ) {
      io.err(`${error.message}\n\nusage: ${command.usage}`);
      return 2;
    }
    if (isDatasetTokenError(error)) {
      io.err(`${error.code}: ${error.message}`);
      return 2;
    }
    throw error;
  }
}
