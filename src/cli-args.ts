/** Commander argument parsers shared by the commands: a bad flag is a usage error (exit 2) naming what was expected. */
import { InvalidArgumentError, type Command } from 'commander';
import { LISTEN_ADDRESS } from './config/listen-address.js';
import { parseDatabaseUrl } from './storage/database-url.js';

/** A flag that is wrong or names a file that is not there: the CLI says so and exits 2, like a bad config. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

/** `--listen HOST:PORT`; `example` shows the command's own default. */
export function listenArgument(example: string): (value: string) => string {
  return (value) => {
    if (!LISTEN_ADDRESS.test(value)) throw new InvalidArgumentError(`expected HOST:PORT, e.g. ${example}`);
    return value;
  };
}

/** `--db sqlite:///path.db | mysql://user:pass@host:3306/db`. */
export function databaseUrlArgument(value: string): string {
  try {
    parseDatabaseUrl(value);
  } catch (err) {
    throw new InvalidArgumentError((err as Error).message);
  }
  return value;
}

/** The flags of a service command: its gpuwatch.yaml, where it listens (`listenDefault` shown), and its database. */
export function serviceFlags(command: Command, help: { config: string; listenDefault: string; db: string }): Command {
  return command
    .option('-c, --config <file>', help.config)
    .option('-l, --listen <host:port>', `where to serve (default ${help.listenDefault})`, listenArgument(help.listenDefault))
    .option('--db <url>', help.db, databaseUrlArgument);
}
