/**
 * Bounded file reads for the capture loader (never a whole memory image). Every part is opened
 * here: only regular files are read (a FIFO would block, a device such as /dev/zero never ends),
 * and every read is bounded by a size limit checked as the bytes come, not by a size stat()
 * reported beforehand (pseudo files say 0 or 4096 whatever they hold).
 */
import * as fs from 'node:fs';
import { InputError } from '../errors.js';
import type { TextChunks } from '../util/lines.js';

const ERRNO_TEXT: Record<string, string> = {
  ENOENT: 'no such file or directory',
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  EISDIR: 'is a directory',
  ENOTDIR: 'a component of the path is not a directory',
  ELOOP: 'too many levels of symbolic links (a symbolic link loop)',
  ENAMETOOLONG: 'file name too long',
  EIO: 'input/output error while reading',
  ENXIO: 'no such device',
  ENODEV: 'no such device',
  EMFILE: 'too many open files',
};

/** An fs error as one InputError naming the file (never Node's raw `ELOOP: …, open '…'`). */
export function fsError(e: unknown, file: string): InputError {
  if (e instanceof InputError) return e;
  const code = (e as NodeJS.ErrnoException).code;
  const what = (code !== undefined ? ERRNO_TEXT[code] : undefined) ?? `cannot be read (${code ?? String((e as Error).message ?? e)})`;
  return new InputError(what, { file });
}

/** What kind of file a stat describes, for messages about files that are not regular. */
export function fileTypeName(st: fs.Stats): string {
  if (st.isDirectory()) return 'a directory';
  if (st.isFIFO()) return 'a FIFO (named pipe)';
  if (st.isCharacterDevice()) return 'a character device';
  if (st.isBlockDevice()) return 'a block device';
  if (st.isSocket()) return 'a socket';
  if (st.isSymbolicLink()) return 'a symbolic link';
  return 'not a regular file';
}

/**
 * Open a part for reading: only a regular file (symbolic links followed). O_NONBLOCK makes opening
 * a FIFO return at once instead of waiting for a writer; fstat then refuses it.
 */
function openRegular(file: string): { fd: number; size: number } {
  let fd: number;
  try {
    fd = fs.openSync(file, fs.constants.O_RDONLY | fs.constants.O_NONBLOCK);
  } catch (e) {
    throw fsError(e, file);
  }
  let st: fs.Stats;
  try {
    st = fs.fstatSync(fd);
  } catch (e) {
    fs.closeSync(fd);
    throw fsError(e, file);
  }
  if (!st.isFile()) {
    fs.closeSync(fd);
    throw new InputError(`${fileTypeName(st)}, not a regular file: save what it holds to a file and name that file`, { file });
  }
  return { fd, size: st.size };
}

/** A buffer for pseudo files, which report a size of 0 (or one page) whatever they hold. */
const UNSIZED_CHUNK = 64 * 1024;

/**
 * How many bytes to read at a time: the file's reported size (plus one, so the read that finds
 * the end needs no second buffer) up to `max`. The size is only a hint for the buffer — limits are
 * checked on the bytes as they come — but it keeps a capture of small text parts from allocating
 * a megabyte per part (a fleet run reads thousands: the garbage collector felt every one).
 */
function chunkFor(size: number, max: number): number {
  return Math.max(1, Math.min(max, size > 0 ? size + 1 : UNSIZED_CHUNK));
}

function readAt(fd: number, buf: Buffer, at: number, len: number, file: string): number {
  try {
    return fs.readSync(fd, buf, at, len, null);
  } catch (e) {
    throw fsError(e, file);
  }
}

/** The first `max` bytes of a file (for content sniffing). */
export function readHead(file: string, max = 65536): Uint8Array {
  const { fd, size } = openRegular(file);
  try {
    const buf = Buffer.allocUnsafe(chunkFor(size, max));
    let n = 0;
    while (n < buf.length) {
      const got = readAt(fd, buf, n, buf.length - n, file);
      if (got === 0) break;
      n += got;
    }
    return buf.subarray(0, n);
  } finally {
    fs.closeSync(fd);
  }
}

/** A whole small file (DMAR tables, register JSON); refuses anything over `limit` bytes. */
export function readSmallFile(file: string, limit: number, what: string): Uint8Array {
  const { fd, size } = openRegular(file);
  try {
    const parts: Buffer[] = [];
    let total = 0;
    const chunk = chunkFor(size, Math.min(limit + 1, 1 << 20));
    let buf = Buffer.allocUnsafe(chunk);
    let used = 0;
    for (;;) {
      if (used === buf.length) {
        parts.push(buf);
        buf = Buffer.allocUnsafe(chunk);
        used = 0;
      }
      const n = readAt(fd, buf, used, buf.length - used, file);
      if (n === 0) break;
      used += n;
      total += n;
      if (total > limit) throw new InputError(`${what} is larger than the ${limit}-byte limit for this part`, { file });
    }
    parts.push(buf.subarray(0, used));
    return parts.length === 1 ? parts[0] : Buffer.concat(parts, total);
  } finally {
    fs.closeSync(fd);
  }
}

/** A text part is refused beyond this size (it is read in chunks, so memory does not grow with it). */
const TEXT_LIMIT = 4 * 2 ** 30;
const TEXT_CHUNK = 1 << 20;

/**
 * A text file as chunks decoded as UTF-8 (invalid bytes become U+FFFD), read as they are
 * consumed: memory stays at one chunk whatever the file's size. Opened when iterated, closed when
 * the iteration ends (also when it ends early). Over `limit` bytes: InputError.
 */
export function fileText(file: string, limit = TEXT_LIMIT): TextChunks {
  return {
    *chunks(): Generator<string> {
      const { fd, size } = openRegular(file);
      try {
        const decoder = new TextDecoder('utf-8', { fatal: false });
        const buf = Buffer.allocUnsafe(chunkFor(size, TEXT_CHUNK));
        let total = 0;
        for (;;) {
          const n = readAt(fd, buf, 0, buf.length, file);
          if (n === 0) break;
          total += n;
          if (total > limit) throw new InputError(`text part is larger than the ${limit}-byte limit`, { file });
          yield decoder.decode(buf.subarray(0, n), { stream: true });
        }
        const rest = decoder.decode();
        if (rest !== '') yield rest;
      } finally {
        fs.closeSync(fd);
      }
    },
  };
}

/** A whole text file as one string, for the readers that need it whole (bounded by `limit`). */
export function readText(file: string, limit = 64 * 2 ** 20): string {
  const bytes = readSmallFile(file, limit, 'text file');
  return new TextDecoder('utf-8', { fatal: false }).decode(bytes);
}

export function statOrThrow(file: string): fs.Stats {
  try {
    return fs.statSync(file);
  } catch (e) {
    throw fsError(e, file);
  }
}
