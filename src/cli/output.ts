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
    // Buffer small writes: fs.writeSync(1) per line is slow for big tables.
    let buf: string[] = [];
    let size = 0;
    const flush = (): void => {
      if (buf.length) writeAllSync(1, buf.join(''));
      buf = [];
      size = 0;
    };
    return {
      isTTY: process.stdout.isTTY === true,
      write(chunk) {
        buf.push(chunk);
        size += chunk.length;
        if (size > 1 << 20) flush();
      },
      finish: flush,
      abort: flush,
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
  return {
    isTTY: false,
    write(chunk) {
      writeAllSync(fd, chunk);
    },
    finish() {
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

function writeAllSync(fd: number, text: string): void {
  const bytes = Buffer.from(text, 'utf8');
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
