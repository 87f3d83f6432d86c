/**
 * The one error class for malformed or unreadable input. It carries where the problem is
 * (file, and a byte offset for binary parts or a line number for text parts) and what was
 * expected, so the CLI can print it as one line and exit 2. Anything else escaping is a bug.
 */
import { hexInMessage } from './util/hex.js';

export class InputError extends Error {
  readonly file: string | undefined;
  readonly offset: number | undefined;
  readonly line: number | undefined;

  constructor(message: string, where: { file?: string; offset?: number; line?: number } = {}) {
    super(message);
    this.name = 'InputError';
    this.file = where.file;
    this.offset = where.offset;
    this.line = where.line;
  }

  /**
   * `file: at byte 0x24: message` / `file:12: message` / `message`. hexInMessage, not hex(), which
   * throws for an inexact number: formatting an error must never throw, whatever offset a hostile
   * file made a reader compute.
   */
  format(): string {
    let where = '';
    if (this.file !== undefined) {
      where = this.file;
      if (this.line !== undefined) where += `:${this.line}`;
      else if (this.offset !== undefined) where += `: at byte ${hexInMessage(this.offset)}`;
      where += ': ';
    } else if (this.offset !== undefined) {
      where = `at byte ${hexInMessage(this.offset)}: `;
    } else if (this.line !== undefined) {
      where = `line ${this.line}: `;
    }
    return where + this.message;
  }
}

/** Usage errors (bad option values): exit 2 like InputError, but no file involved. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}
