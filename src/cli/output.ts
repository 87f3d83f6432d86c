/**
 * Where a command's output goes. `--output FILE` is written to a temporary file beside the
 * target and renamed into place only when the command finished, so a failure never leaves a
 * partial report that looks like a success.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { InputError } from '../errors.js';

export interface Output {
  write(chunk: string): void;
  /** Commit the output (rename into place / flush). */
  finish(): void;
  /** Drop a partial output (on error). */
  abort(): void;
  readonly isTTY: boolean;
}

export function openOutput(file: string | undefined): Output {
  if (file === undefined || file === '-') {
    const out = new BufferedWriter(1);
    return {
      isTTY: process.stdout.isTTY === true,
      write: (chunk) => out.write(chunk),
      finish: () => out.flush(),
      abort: () => out.flush(),
    };
  }
  const target = path.resolve(file);
  const tmp = path.join(path.dirname(target), `.${path.basename(target)}.${process.pid}.tmp`);
  let fd: number;
  try {
    fd = fs.openSync(tmp, 'w');
  } catch (e) {
    throw new InputError(`cannot write output: ${(e as NodeJS.ErrnoException).code ?? String(e)}`, { file });
  }
  const out = new BufferedWriter(fd);
  return {
    isTTY: false,
    write: (chunk) => out.write(chunk),
    finish() {
      out.flush();
      fs.closeSync(fd);
      fs.renameSync(tmp, target);
    },
    abort() {
      try {
        fs.closeSync(fd);
      } catch {
        /* already closed */
      }
      fs.rmSync(tmp, { force: true });
    },
  };
}

/**
 * Encodes written text straight into one reused 1 MiB buffer and writes it out when full: a 15 MB
 * JSON model costs no joined copy of itself and no Buffer per chunk.
 */
class BufferedWriter {
  private static readonly SIZE = 1 << 20;
  private readonly buf = Buffer.allocUnsafe(BufferedWriter.SIZE);
  private used = 0;

  constructor(private readonly fd: number) {}

  write(text: string): void {
    // UTF-8 needs at most 3 bytes per UTF-16 code unit: make that much room, or write a big
    // chunk on its own.
    if (this.used + text.length * 3 > this.buf.length) {
      this.flush();
      if (text.length * 3 > this.buf.length) {
        writeAllSync(this.fd, Buffer.from(text, 'utf8'));
        return;
      }
    }
    this.used += this.buf.write(text, this.used, 'utf8');
  }

  flush(): void {
    if (this.used > 0) writeAllSync(this.fd, this.buf.subarray(0, this.used));
    this.used = 0;
  }
}

function writeAllSync(fd: number, bytes: Uint8Array): void {
  let off = 0;
  while (off < bytes.length) {
    try {
      off += fs.writeSync(fd, bytes, off, bytes.length - off);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'EAGAIN') continue; // a non-blocking pipe: retry
      if (code === 'EPIPE') return; // reader went away (`| head`): not our error
      throw e;
    }
  }
}
