/**
 * Where a command's output goes.
 *
 * `--output PATH` that is a regular file or a new path is written to a temporary file beside it
 * and renamed into place only when the command finished, so a failure never leaves a partial
 * report that looks like a success; an existing file keeps its mode (and, when we may, its owner).
 * A symlink is followed to what it names (the link stays). Anything else that is not a directory —
 * a FIFO, a character or block device, a socket — is opened and written straight into: renaming
 * over it would replace the node itself (as root, `-o /dev/stdout` destroyed the device entry).
 * A directory is refused, naming the path the user gave.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { OutputError } from './errors.js';
import { isTerminal } from './terminal.js';

export interface Output {
  /** Text, or bytes (valid only during the call: they are copied or written out before it returns). */
  write(chunk: string | Uint8Array): void;
  /** Commit the output (rename into place / flush). */
  finish(): void;
  /** Drop a partial output (on error). Never throws. */
  abort(): void;
  readonly isTTY: boolean;
}

/** How `-o` names standard output (and how errors name it when there is no `-o`). */
const STDOUT_LABEL = 'standard output';
const MAX_SYMLINKS = 40;

export function openOutput(file: string | undefined): Output {
  if (file === undefined || file === '-') {
    const out = new BufferedWriter(1, STDOUT_LABEL);
    return writingTo(out, () => isTerminal(1), { finish: () => out.flush(), abort: () => out.flushQuietly() });
  }
  const { target, stat } = resolveTarget(file);
  if (stat?.isDirectory()) throw new OutputError(file, 'is a directory');
  if (stat !== undefined && !stat.isFile()) return openStraight(file, target);
  return openAtomic(file, target, stat);
}

/**
 * Follow symlinks by hand (a dangling one names the file to create), so the rename lands on
 * the link's target and the link itself is kept.
 */
function resolveTarget(given: string): { target: string; stat?: fs.Stats } {
  let target = path.resolve(given);
  for (let hops = 0; hops <= MAX_SYMLINKS; hops++) {
    let st: fs.Stats;
    try {
      st = fs.lstatSync(target);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') return { target };
      throw new OutputError(given, `cannot write: ${errnoText(e)}`);
    }
    if (!st.isSymbolicLink()) return { target, stat: st };
    target = path.resolve(path.dirname(target), fs.readlinkSync(target));
  }
  throw new OutputError(given, 'cannot write: too many levels of symbolic links (ELOOP)');
}

/** A FIFO, a device, a socket: write into it as it is; there is nothing to rename over. */
function openStraight(given: string, target: string): Output {
  let fd: number;
  try {
    fd = fs.openSync(target, fs.constants.O_WRONLY | fs.constants.O_TRUNC);
  } catch (e) {
    throw new OutputError(given, `cannot write: ${errnoText(e)}`);
  }
  const out = new BufferedWriter(fd, given);
  const close = (): void => {
    try {
      fs.closeSync(fd);
    } catch {
      /* already closed */
    }
  };
  return writingTo(out, () => false, {
    finish() {
      try {
        out.flush();
      } finally {
        close();
      }
    },
    abort() {
      out.flushQuietly();
      close();
    },
  });
}

/** A regular file or a new path: a temporary file beside it, renamed over it at the end. */
function openAtomic(given: string, target: string, existing: fs.Stats | undefined): Output {
  const dir = path.dirname(target);
  // pid and a random suffix (Math.random: node:crypto alone costs every run ~5 ms of start-up); O_EXCL refuses a name taken.
  const tmp = path.join(dir, `.${path.basename(target)}.${process.pid}.${Math.floor(Math.random() * 2 ** 32).toString(16).padStart(8, '0')}.tmp`);
  // A new file gets what the umask allows; an existing one its own permission bits — the
  // temporary file never has more than either (a report in a mode-600 file is not readable
  // by others while it is being written).
  const mode = existing ? existing.mode & 0o777 : 0o666;
  let fd: number;
  try {
    fd = fs.openSync(tmp, fs.constants.O_WRONLY | fs.constants.O_CREAT | fs.constants.O_EXCL, mode);
  } catch (e) {
    // A file the user may write in a directory they may not (or a file system that makes no new
    // files, such as /proc): write into the file itself, as a shell redirection would.
    if (existing) return openStraight(given, target);
    throw new OutputError(given, `cannot write: ${fs.existsSync(dir) ? errnoText(e) : `no such directory: ${path.dirname(given)}`}`);
  }
  const out = new BufferedWriter(fd, given);
  let closed = false;
  const close = (): void => {
    if (closed) return;
    closed = true;
    fs.closeSync(fd);
  };
  return writingTo(out, () => false, {
    finish() {
      try {
        out.flush();
        if (existing) keepOwnerAndMode(fd, existing);
        close();
        fs.renameSync(tmp, target);
      } catch (e) {
        if (e instanceof OutputError) throw e;
        throw new OutputError(given, `cannot write: ${errnoText(e)}`);
      }
    },
    abort() {
      try {
        close();
      } catch {
        /* already closed */
      }
      fs.rmSync(tmp, { force: true });
    },
  });
}

/** An Output whose bytes go through `out`; `end` says how it is committed or dropped. */
/** `isTTY` asked on first use: a report that never looks (JSON) never makes process.stdout (terminal.ts). */
function writingTo(out: BufferedWriter, isTTY: () => boolean, end: Pick<Output, 'finish' | 'abort'>): Output {
  let tty: boolean | undefined;
  return {
    get isTTY() {
      tty ??= isTTY();
      return tty;
    },
    write: (chunk) => out.write(chunk),
    finish: () => end.finish(),
    abort: () => end.abort(),
  };
}

function keepOwnerAndMode(fd: number, st: fs.Stats): void {
  try {
    fs.fchownSync(fd, st.uid, st.gid);
  } catch {
    // Only root may give a file away; an ordinary user's report stays theirs.
  }
  fs.fchmodSync(fd, st.mode & 0o7777);
}

/** "no space left on device (ENOSPC)": what a person reads, and the code to search for. */
function errnoText(e: unknown): string {
  const err = e as NodeJS.ErrnoException;
  const code = typeof err?.code === 'string' ? err.code : undefined;
  const text = code !== undefined ? ERRNO_TEXT[code] : undefined;
  if (text !== undefined) return `${text} (${code})`;
  return code ?? (err && typeof err.message === 'string' ? err.message : String(e));
}

const ERRNO_TEXT: Record<string, string> = {
  ENOSPC: 'no space left on device',
  EDQUOT: 'disk quota exceeded',
  EFBIG: 'file too large',
  EIO: 'I/O error',
  EROFS: 'read-only file system',
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  ENOENT: 'no such file or directory',
  ENOTDIR: 'not a directory',
  EISDIR: 'is a directory',
  ELOOP: 'too many levels of symbolic links',
  ENAMETOOLONG: 'file name too long',
  EBADF: 'not open for writing',
};

/**
 * Encodes written text straight into one reused 1 MiB buffer and writes it out when full: a 15 MB
 * JSON model costs no joined copy of itself and no Buffer per chunk.
 */
class BufferedWriter {
  private static readonly SIZE = 1 << 20;
  private readonly buf = Buffer.allocUnsafe(BufferedWriter.SIZE);
  private used = 0;
  /** Set after a write failed: nothing more is written (an abort does not hit the error again). */
  private failed = false;

  constructor(private readonly fd: number, private readonly label: string) {}

  write(text: string | Uint8Array): void {
    if (typeof text !== 'string') {
      if (this.used + text.length > this.buf.length) this.flush();
      if (text.length > this.buf.length) this.writeAll(text);
      else {
        this.buf.set(text, this.used);
        this.used += text.length;
      }
      return;
    }
    // UTF-8 needs at most 3 bytes per UTF-16 code unit: make that much room, or write a big
    // chunk on its own.
    if (this.used + text.length * 3 > this.buf.length) {
      this.flush();
      if (text.length * 3 > this.buf.length) {
        this.writeAll(Buffer.from(text, 'utf8'));
        return;
      }
    }
    this.used += this.buf.write(text, this.used, 'utf8');
  }

  flush(): void {
    const n = this.used;
    this.used = 0;
    if (n > 0) this.writeAll(this.buf.subarray(0, n));
  }

  /** Flush what can be, ignoring a failure (the error that led here is the one to report). */
  flushQuietly(): void {
    try {
      this.flush();
    } catch {
      /* reported already, or about to be */
    }
  }

  private writeAll(bytes: Uint8Array): void {
    if (this.failed) return;
    let off = 0;
    while (off < bytes.length) {
      try {
        off += fs.writeSync(this.fd, bytes, off, bytes.length - off);
      } catch (e) {
        const code = (e as NodeJS.ErrnoException).code;
        if (code === 'EAGAIN') continue; // a non-blocking pipe: retry
        this.failed = true;
        if (code === 'EPIPE') return; // the reader went away (`| head`): it wanted no more
        throw new OutputError(this.label, `cannot write: ${errnoText(e)}`);
      }
    }
  }
}
