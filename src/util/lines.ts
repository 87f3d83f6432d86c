/**
 * Lines of a text, read in one pass: CRLF and lone CR tolerated, a leading BOM dropped, 1-based
 * line numbers kept, lines longer than any real line of the format skipped (and reported) instead
 * of held in memory.
 *
 * Input is either a whole string (tests, small parts) or a file read in chunks
 * (src/capture/read.ts `fileText`): `eachLine` walks either in time linear in its length, with
 * memory bounded by the chunk and the longest line kept.
 */
import { InputError } from '../errors.js';

/**
 * What a text reader throws when nothing in the text is of its format (as opposed to a line of
 * its format holding an impossible value): content recognition treats it as "not this kind".
 */
export class NotRecognisedError extends InputError {}

export interface Line {
  /** The line without its line terminator (CR of CRLF removed). */
  text: string;
  /** 1-based line number in the file. */
  no: number;
}

/** Text handed to a parser: a string, or chunks of a file decoded as UTF-8 one after another. */
export type TextInput = string | TextChunks;

export interface TextChunks {
  chunks(): Iterable<string>;
}

/**
 * The longest line the text formats read here can have, with a wide margin: kernel log records
 * are at most 1 KiB (printk), debugfs rows about 200 characters, lspci/pciconf/iomem lines less.
 * A longer line is no line of these formats; keeping it would only cost memory (and time in the
 * line patterns). VM command lines, which can be long, pass their own bound.
 */
export const MAX_LINE = 16384;

/** At most this many warnings per reader and part are kept; the rest are counted. */
export const MAX_LINE_WARNINGS = 100;

/**
 * A reader's warnings about its lines, bounded: a pasted binary or a huge unrelated log must not
 * produce a million warnings. The first MAX_LINE_WARNINGS are kept; `done()` adds one saying how
 * many more there were. `make` shapes a warning (the summary has no line).
 */
export class BoundedWarnings<W> {
  readonly list: W[] = [];
  private suppressed = 0;

  constructor(private readonly make: (message: string, line?: number) => W) {}

  warn(message: string, line: number): void {
    if (this.list.length < MAX_LINE_WARNINGS) this.list.push(this.make(message, line));
    else this.suppressed++;
  }

  done(): W[] {
    if (this.suppressed > 0) {
      this.list.push(this.make(`${this.suppressed} more warnings like these not shown`));
      this.suppressed = 0;
    }
    return this.list;
  }
}

/** A line that was longer than the bound: not returned, only reported. */
export interface LongLine {
  no: number;
  /** Its length in characters. */
  length: number;
  /** Its first characters, for the warning. */
  head: string;
}

const LF = 10;
const CR = 13;

/**
 * The lines of `input`, lazily. A line longer than `maxLine` characters is not returned:
 * `onLong` is told about it (and only its first characters are ever held).
 */
export function* eachLine(input: TextInput, onLong: (l: LongLine) => void, maxLine = MAX_LINE): Generator<Line> {
  const chunks = typeof input === 'string' ? [input] : input.chunks();
  let no = 0;
  /** Pieces of the current line (while it is within maxLine), and its length so far. */
  let pieces: string[] = [];
  let length = 0;
  let head = '';
  /** The previous chunk ended with CR: a LF starting this one belongs to it. */
  let afterCr = false;
  let first = true;

  const add = (s: string): void => {
    if (s === '') return;
    if (length <= maxLine) {
      if (length + s.length > maxLine) {
        head = (pieces.join('') + s).slice(0, 60);
        pieces = [];
      } else {
        pieces.push(s);
      }
    }
    length += s.length;
  };
  /** End the current line: the Line to yield, or undefined when it was too long. */
  const end = (): Line | undefined => {
    no++;
    let out: Line | undefined;
    if (length > maxLine) onLong({ no, length, head });
    else out = { text: pieces.length === 1 ? pieces[0] : pieces.join(''), no };
    pieces = [];
    length = 0;
    head = '';
    return out;
  };

  for (let chunk of chunks) {
    if (first && chunk.length > 0) {
      if (chunk.charCodeAt(0) === 0xfeff) chunk = chunk.slice(1);
      first = false;
    }
    let i = 0;
    if (afterCr && chunk.length > 0) {
      if (chunk.charCodeAt(0) === LF) i = 1;
      afterCr = false;
    }
    // Next LF and next CR, each searched once per chunk position (never re-scanned: linear).
    let nextLf = chunk.indexOf('\n', i);
    let nextCr = chunk.indexOf('\r', i);
    while (i < chunk.length) {
      if (nextLf >= 0 && nextLf < i) nextLf = chunk.indexOf('\n', i);
      if (nextCr >= 0 && nextCr < i) nextCr = chunk.indexOf('\r', i);
      const j = nextLf < 0 ? nextCr : nextCr < 0 ? nextLf : Math.min(nextLf, nextCr);
      if (j < 0) {
        add(chunk.slice(i));
        break;
      }
      add(chunk.slice(i, j));
      const line = end();
      if (line) yield line;
      i = j + 1;
      if (chunk.charCodeAt(j) === CR) {
        if (i < chunk.length) {
          if (chunk.charCodeAt(i) === LF) i++;
        } else {
          afterCr = true;
        }
      }
    }
  }
  // A last line without a terminator; a terminator at the very end starts no line of its own.
  if (length > 0) {
    const line = end();
    if (line) yield line;
  }
}

