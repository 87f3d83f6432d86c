/** Bounded file reads for the capture loader (never a whole memory image). */
import * as fs from 'node:fs';
import { InputError } from '../errors.js';

function fsError(e: unknown, file: string): InputError {
  const code = (e as NodeJS.ErrnoException).code;
  const what = code === 'ENOENT' ? 'no such file or directory' : code === 'EACCES' ? 'permission denied' : code === 'EISDIR' ? 'is a directory' : String((e as Error).message ?? e);
  return new InputError(what, { file });
}

/** The first `max` bytes of a file (for content sniffing). */
export function readHead(file: string, max = 65536): Uint8Array {
  let fd: number;
  try {
    fd = fs.openSync(file, 'r');
  } catch (e) {
    throw fsError(e, file);
  }
  try {
    const buf = Buffer.alloc(max);
    const n = fs.readSync(fd, buf, 0, max, 0);
    return buf.subarray(0, n);
  } catch (e) {
    throw fsError(e, file);
  } finally {
    fs.closeSync(fd);
  }
}

/** A whole small file (DMAR tables, text dumps); refuses anything over `limit` bytes. */
export function readSmallFile(file: string, limit: number, what: string): Uint8Array {
  let size: number;
  try {
    size = fs.statSync(file).size;
  } catch (e) {
    throw fsError(e, file);
  }
  if (size > limit) throw new InputError(`${what} of ${size} bytes is larger than the ${limit}-byte limit for this part`, { file });
  try {
    return fs.readFileSync(file);
  } catch (e) {
    throw fsError(e, file);
  }
}

export function readText(file: string): string {
  const bytes = readSmallFile(file, 512 * 1024 * 1024, 'text file');
  return new TextDecoder('utf-8', { fatal: false }).decode(bytes);
}

export function statOrThrow(file: string): fs.Stats {
  try {
    return fs.statSync(file);
  } catch (e) {
    throw fsError(e, file);
  }
}
