/**
 * Errors of the command line carry the exit status they end the process
 * with; library errors that mean bad usage are mapped in one table.
 */
import { OptionRangeError, OptionTypeError, OutputPathError, ResultFormatError, RttProbeError } from '../errors';
import { InputError } from '../lab/budget-input';
import { ProfileError } from '../qualify/profile';
import { EXIT } from './exit-codes';
import { KeyError } from './key';

/** A failure the CLI itself finds; `exitCode` is what the process exits with. */
export class CliError extends RttProbeError {
  readonly exitCode: number;

  constructor(message: string, code: string, exitCode: number) {
    super(message, code);
    this.name = 'CliError';
    this.exitCode = exitCode;
  }
}

/** A combination of options that cannot work together: exit 2, like a bad value. */
export class UsageError extends CliError {
  constructor(message: string) {
    super(message, 'ERR_USAGE', EXIT.usage);
    this.name = 'UsageError';
  }
}

type ErrorClass = abstract new (...args: never[]) => Error;

/**
 * Errors from below the CLI that mean the user asked for something that
 * cannot be: bad usage, exit 2. `hint`: whether "run with --help" helps (it
 * does for an option, not for the contents of an input file).
 */
const USAGE_ERRORS: ReadonlyArray<{ type: ErrorClass; hint: boolean }> = [
  { type: OptionRangeError, hint: true },
  { type: OptionTypeError, hint: true },
  { type: KeyError, hint: true },
  { type: InputError, hint: false },
  { type: ResultFormatError, hint: false },
  { type: OutputPathError, hint: false },
  { type: ProfileError, hint: false },
];

/** The exit status an error ends the CLI with, and whether to point at --help. */
export function exitFor(error: unknown): { exitCode: number; hint: boolean } {
  if (error instanceof CliError) return { exitCode: error.exitCode, hint: error.exitCode === EXIT.usage };
  const usage = USAGE_ERRORS.find((u) => error instanceof u.type);
  return usage ? { exitCode: EXIT.usage, hint: usage.hint } : { exitCode: EXIT.failure, hint: false };
}
