/**
 * Paths as the user gave them. The model names a part relative to its capture directory
 * (`memory.elf`), as typed when an option named it (`--memory ../x.raw`), or by its base name when
 * the capture is that one file; an error may name a file in any of those forms, or absolutely (the
 * readers open resolved paths). Everything the CLI prints goes through a PathNamer, so a path the
 * user typed relative stays relative to the working directory (`../cap/memory.elf`, which they can
 * open from where they are) and an absolute one stays absolute.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { CaptureOptions } from '../capture/options.js';
import { InputError } from '../errors.js';

export interface PathNamer {
  /** A part path of the model (Source.part, Part.path) as the user would name it. */
  part(p: string): string;
  /** A file an error names (absolute, relative to the working directory or to the capture). */
  file(f: string): string;
}

/** The files a command line names with the part options. */
function optionPaths(o: CaptureOptions): string[] {
  const all = [o.dmar, o.memory, ...(o.registers ?? []), ...(o.dmardump ?? []), ...(o.debugfs ?? []), ...(o.dmesg ?? []), ...(o.pci ?? []), ...(o.vms ?? []), ...(o.memoryMap ?? [])];
  return all.filter((p): p is string => p !== undefined && p !== '');
}

function kindOf(p: string): 'dir' | 'file' | undefined {
  try {
    return fs.statSync(p).isDirectory() ? 'dir' : 'file';
  } catch {
    return undefined; // the loader says what is wrong with it
  }
}

/** `inner` lies below `outer` (both resolved, or both relative to the same place). */
function below(outer: string, inner: string): string | undefined {
  const rel = path.relative(outer, inner);
  return rel !== '' && rel !== '..' && !rel.startsWith(`..${path.sep}`) && !path.isAbsolute(rel) ? rel : undefined;
}

/** The namer for a command reading `capture` (as typed; '' for none) with the part options `opts`. */
export function pathNamer(capture: string, opts: CaptureOptions = {}): PathNamer {
  const given = optionPaths(opts);
  const kind = capture === '' ? undefined : kindOf(capture);
  const part = (p: string): string => {
    if (capture === '' || given.includes(p)) return p;
    if (kind === 'dir') return path.isAbsolute(p) ? p : path.join(capture, p);
    if (kind === 'file' && p === path.basename(capture)) return capture;
    return p;
  };
  const file = (f: string): string => {
    if (f === '' || f === capture || given.includes(f)) return f;
    if (path.isAbsolute(f)) {
      // A path the reader resolved: back to the form typed, when the user typed it relative.
      for (const g of [capture, ...given]) if (g !== '' && !path.isAbsolute(g) && path.resolve(g) === f) return g;
      const inside = kind === 'dir' && !path.isAbsolute(capture) ? below(path.resolve(capture), f) : undefined;
      return inside !== undefined ? path.join(capture, inside) : f;
    }
    // Already relative to the working directory through the capture path (`../cap/memory.elf`)?
    if (kind === 'dir' && path.normalize(capture) !== '.' && below(path.normalize(capture), path.normalize(f)) !== undefined) return f;
    return part(f);
  };
  return { part, file };
}

/** `e` with its file named as the user gave it (other errors pass through unchanged). */
export function namedAsGiven(e: unknown, namer: PathNamer): unknown {
  if (!(e instanceof InputError) || e.file === undefined) return e;
  const shown = namer.file(e.file);
  if (shown === e.file) return e;
  const where = { file: shown, ...(e.offset !== undefined ? { offset: e.offset } : {}), ...(e.line !== undefined ? { line: e.line } : {}) };
  const renamed = new InputError(e.message, where);
  renamed.stack = e.stack;
  return renamed;
}
