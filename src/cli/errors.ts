/** The CLI's one place that turns errors into one stderr line and an exit code. */
import { InputError, UsageError } from '../errors.js';

export const EXIT_OK = 0;
export const EXIT_FINDINGS = 1;
export const EXIT_ERROR = 2;

/**
 * The output could not be written (a full disk, an I/O error, a directory given as `-o`): names
 * the output as the user gave it. Not a bug and not bad input, but the run failed all the same.
 */
export class OutputError extends Error {
  constructor(
    readonly output: string,
    message: string,
  ) {
    super(message);
    this.name = 'OutputError';
  }
}

const FS_ERRORS: Record<string, string> = {
  ENOENT: 'no such file or directory',
  EACCES: 'permission denied',
  EISDIR: 'is a directory',
  ENOTDIR: 'not a directory',
  ELOOP: 'too many levels of symbolic links',
  EIO: 'I/O error',
};

export function reportError(e: unknown): number {
  if (e instanceof InputError) {
    process.stderr.write(`dmarsift: ${e.format()}\n`);
    return EXIT_ERROR;
  }
  if (e instanceof UsageError) {
    process.stderr.write(`dmarsift: ${e.message}\n`);
    return EXIT_ERROR;
  }
  if (e instanceof OutputError) {
    process.stderr.write(`dmarsift: ${e.output}: ${e.message}\n`);
    return EXIT_ERROR;
  }
  const err = e as NodeJS.ErrnoException;
  if (err && typeof err.code === 'string' && typeof err.path === 'string') {
    process.stderr.write(`dmarsift: ${err.path}: ${FS_ERRORS[err.code] ?? err.message}\n`);
    return EXIT_ERROR;
  }
  // A bug: still one line, no stack trace unless asked for.
  const msg = err && typeof err.message === 'string' ? err.message : String(e);
  process.stderr.write(`dmarsift: internal error: ${msg}${process.env.DMARSIFT_DEBUG ? `\n${err?.stack || ''}` : ' (set DMARSIFT_DEBUG=1 for details; please report it)'}\n`);
  return EXIT_ERROR;
}
