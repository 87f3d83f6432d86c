/**
 * VM command lines → Vm records. Input: `ps` output (one process per line; a header line whose
 * last column is `COMMAND`/`ARGS`/`CMD` is skipped, and the columns before it — `ps -eo pid,args`,
 * `ps -ef`, `ps aux` — are cut off each line, the `PID` column kept), pasted shell commands
 * (quotes, `\` continuations) or /proc/PID/cmdline contents (arguments separated by NUL; several
 * files may be joined by newlines).
 *
 * "No VM runs" is data, not an error: an empty part, or `ps` output naming no hypervisor process,
 * gives no Vm and lets the model say "VMs known: none". Text that is neither is an error.
 *
 * - bhyve (usr.sbin/bhyve): `-s slot[:func],passthru,B/S/F` (also `pci0:3:0:8`, `pci3:0:8`, or a
 *   FreeBSD device name such as `ppt0`), `-m size` (bare number < 1 MiB means MiB, as
 *   vm_parse_memsize does; k/m/g/t suffixes binary), the VM name is the last argument.
 *   A running bhyve calls setproctitle(vmname), so ps shows `bhyve: myvm (bhyve)`, not the
 *   arguments: that gives no pass-through list, so it is reported as a warning, not as a Vm
 *   (a Vm with an empty list would read as "this VM has no devices").
 * - vmrun.sh (share/examples/bhyve/vmrun.sh, getopts `aAc:C:d:e:Ef:F:g:hH:iI:l:L:m:n:p:P:t:Tuvw`):
 *   `-p passthru` (repeatable), `-m memsize` (default 512M), last argument the VM name.
 * - QEMU/KVM (qemu-system-*, qemu-kvm, kvm): src/text/qemu-cmdline.ts. A QEMU line without `-name`
 *   (plain invocations often have none) is named `qemu-PID` when the PID is known (a `PID` column,
 *   or a part named `…/PID/cmdline` or `PID.cmdline`, as `dmarsift capture` writes them), else
 *   `qemu@FILE:LINE`.
 * - Xen xl config lines: `name = "vm1"`, `memory = 2048` (MiB), `pci = [ '03:00.0', … ]`.
 * BDFs are formatted `SSSS:BB:DD.F`; a FreeBSD device name that is no BDF (`ppt0`) is kept as
 * written for the model builder to resolve against the inventory.
 *
 * Every line is handled in time and memory linear in its length, and a line longer than any
 * process's arguments can be (MAX_LINE_CHARS) is skipped with a warning.
 */
import { InputError } from '../errors.js';
import type { Contribution } from '../model/contribution.js';
import type { Vm } from '../model/types.js';
import { formatBdf, isBdfNotation, parseBdf } from '../util/bdf.js';
import { headLines, type Line, LineWarnings, textLines } from './lines.js';
import { parseQemuArgs, type QemuVm } from './qemu-cmdline.js';

const MIB = 1024 * 1024;
/**
 * Longest line read: Linux caps a process's arguments and environment at 3/4 of 8 MiB (fs/exec.c
 * bprm_stack_limits), FreeBSD's kern.argmax is far below. Longer is no command line.
 */
export const MAX_LINE_CHARS = 6 * MIB;
const PROGRAM_RE = /^(?:bhyve|vmrun\.sh|qemu-system-[\w.-]+|qemu-kvm|kvm)$/;
const XEN_PCI_RE = /^\s*pci\s*=\s*\[(.*)\]\s*$/;
const XEN_NAME_RE = /^\s*name\s*=\s*["']([^"']+)["']\s*$/;
const XEN_MEMORY_RE = /^\s*memory\s*=\s*(\d+)\s*$/;
const BHYVE_TITLE_RE = /^\s*(?:\d+\s+)?bhyve: (\S+)(?: \(bhyve\))?\s*$/;
/** A `ps` header: upper-case column names, the last one the command. */
const PS_HEADER_RE = /^\s*(?:[A-Z%][A-Z%0-9_+-]*\s+)*(?:COMMAND|ARGS|CMD)\s*$/;

/**
 * Recognised by content only when confident: NUL-separated arguments of a hypervisor, or a text
 * whose first line is a `ps` header, a process command line or a shell prompt with one, and that
 * names a hypervisor process; or an xl config with a `pci = [...]` line. A README or a log that
 * merely mentions bhyve or qemu is not VM data.
 */
export function looksLikeVmCommandLines(text: string): boolean {
  const head = headLines(text).filter((l) => l.trim() !== '');
  if (head.length === 0) return false;
  if (head[0].includes('\0')) return programIndex(head[0].split('\0').filter((a) => a !== '')) >= 0;
  if (head.every((l) => /^\s*(?:#.*|\w+\s*=.*)$/.test(l)) && head.some((l) => XEN_PCI_RE.test(l))) return true;
  const lines = head[0].startsWith('#!') ? head.slice(1) : head;
  if (lines.length === 0) return false;
  const header = psHeader(lines[0]);
  const body = header ? lines.slice(1) : lines;
  if (!header && !looksLikeProcessLine(lines[0])) return false;
  return body.some((l) => {
    const c = header ? cutColumns(l, header) : { text: l };
    return BHYVE_TITLE_RE.test(c.text) || programIndex(shellSplit(c.text.slice(0, 4096))) >= 0;
  });
}

/** A process line as ps or a shell shows it: an absolute path, a kernel thread, a login shell, a PID, or a prompt before a command. */
function looksLikeProcessLine(l: string): boolean {
  if (/^\s*(?:\d+\s+)?(?:\/\S|\[[^\]\s]+\]\s*$|-\w)/.test(l) || BHYVE_TITLE_RE.test(l)) return true;
  return programIndex(shellSplit(l.slice(0, 4096))) >= 0;
}

/** Only blanks and NUL bytes (stops at the first other character). */
function blank(t: string): boolean {
  for (let i = 0; i < t.length; i++) {
    const c = t.charCodeAt(i);
    if (c !== 0x20 && c !== 0x09 && c !== 0x0a && c !== 0x0d && c !== 0) return false;
  }
  return true;
}

export function parseVmCommandLines(text: string, part: string): Contribution {
  const w = new LineWarnings(part);
  const vms: Vm[] = [];
  let recognised = 0;
  let processLines = 0;
  let tooLong = 0;
  let xen: Vm | undefined;
  let header: PsHeader | undefined;
  let first = true;
  const partPid = pidOfPart(part);

  for (const l of joinContinuations(textLines(text))) {
    if (l.tooLong !== undefined) {
      tooLong++;
      w.warn(`line is ${(l.tooLong / MIB).toFixed(1)} MiB long, longer than any process's arguments can be (${MAX_LINE_CHARS / MIB} MiB): skipped`, l.no);
      first = false;
      continue;
    }
    if (blank(l.text)) continue;
    if (first) {
      first = false;
      header = psHeader(l.text);
      if (header) {
        processLines++;
        continue;
      }
      if (l.text.startsWith('#!')) continue;
    } else if (PS_HEADER_RE.test(l.text)) {
      // A second listing pasted below the first: its own columns.
      header = psHeader(l.text);
      continue;
    }
    const cut = header ? cutColumns(l.text, header) : { text: l.text };
    const t = cut.text;

    let m: RegExpExecArray | null;
    if ((m = XEN_NAME_RE.exec(t))) {
      xen = { name: m[1], hypervisor: 'xen', passthru: [], source: { part, line: l.no } };
      vms.push(xen);
      recognised++;
      continue;
    }
    if ((m = XEN_MEMORY_RE.exec(t)) && xen) {
      xen.memoryBytes = Number(m[1]) * MIB;
      continue;
    }
    if ((m = XEN_PCI_RE.exec(t))) {
      recognised++;
      if (!xen) {
        xen = { name: 'unnamed xen domain', hypervisor: 'xen', passthru: [], source: { part, line: l.no } };
        vms.push(xen);
        w.warn('Xen pci = [...] line before any name = "..." line', l.no);
      }
      for (const q of m[1].matchAll(/["']([^"']*)["']/g)) {
        const spec = q[1].split(',')[0].replace(/@.*$/, '').trim();
        xen.passthru.push(bdfText(spec, l, part));
      }
      continue;
    }

    if ((m = BHYVE_TITLE_RE.exec(t))) {
      recognised++;
      w.warn(`bhyve process of VM ${m[1]} shows only its title (bhyve calls setproctitle): its pass-through devices are unknown; capture the command line that started it (vmrun.sh line, vm-bhyve config)`, l.no);
      continue;
    }

    const args = t.includes('\0') ? t.split('\0').filter((a) => a !== '') : shellSplit(t);
    const at = programIndex(args);
    if (at < 0) {
      if (looksLikeProcessLine(t)) processLines++;
      // Another process (ps lists them all): skipped silently unless it names a hypervisor.
      if (/\b(?:bhyve|qemu)/.test(t) && !/^\s*(?:\S*\/)?(?:grep|pgrep|ps|less|more|tail|vi|vim)\s/.test(t) && !/\bbhyvectl\b/.test(t)) {
        w.warn('line mentions bhyve/qemu but is no command line of either, skipped', l.no);
      }
      continue;
    }
    recognised++;
    const prog = basename(args[at]);
    const rest = args.slice(at + 1);
    const pid = cut.pid ?? leadingPid(args, at) ?? partPid;
    // The argument parsers throw InputError (without a place) for what they cannot understand: a
    // warning naming the line. A pass-through device that cannot exist is an error (bdfText).
    let understood: { bhyve: ReturnType<typeof bhyve> } | { qemu: QemuVm };
    try {
      understood = prog === 'bhyve' ? { bhyve: bhyve(rest) } : prog === 'vmrun.sh' ? { bhyve: vmrun(rest) } : { qemu: parseQemuArgs(rest) };
    } catch (e) {
      if (!(e instanceof InputError)) throw e;
      w.warn(`${prog} command line not understood (${e.message}), skipped`, l.no);
      continue;
    }
    let vm: Vm;
    if ('bhyve' in understood) {
      const b = understood.bhyve;
      vm = { name: b.name, hypervisor: 'bhyve', passthru: b.passthru.map((p) => bdfText(p, l, part)), source: { part, line: l.no } };
      if (b.memory !== undefined) vm.memoryBytes = b.memory;
    } else {
      const q = understood.qemu;
      for (const msg of q.warnings) w.warn(msg, l.no);
      const name = q.name ?? (pid !== undefined ? `qemu-${pid}` : `qemu@${basename(part)}:${l.no}`);
      vm = { name, hypervisor: 'qemu', passthru: q.passthru.map((p) => bdfText(p, l, part)), memoryBytes: q.memoryBytes, qemu: q.machine, source: { part, line: l.no } };
    }
    vms.push(vm);
  }

  // An empty part, or a process listing naming no hypervisor, says "no VM runs" (a capture taken
  // after the last VM stopped). Anything else without a VM is not VM data.
  if (recognised === 0 && (processLines > 0 || (tooLong === 0 && blank(text)))) return { vms, warnings: w.done() };
  if (recognised === 0) {
    const why = tooLong > 0 ? `only ${tooLong === 1 ? 'a line' : `${tooLong} lines`} longer than any command line` : 'no bhyve, vmrun.sh or qemu process, no Xen pci = [...] line, no process listing';
    throw new InputError(`does not look like VM command lines (${why})`, { file: part, line: 1 });
  }
  return { vms, warnings: w.done() };
}

interface PsHeader {
  /** Columns before the command (each a whitespace-free field on every line). */
  before: number;
  /** Index of the PID column, when there is one. */
  pid?: number;
}

function psHeader(l: string): PsHeader | undefined {
  if (!PS_HEADER_RE.test(l)) return undefined;
  const cols = l.trim().split(/\s+/);
  const pid = cols.indexOf('PID');
  return { before: cols.length - 1, ...(pid >= 0 && pid < cols.length - 1 ? { pid } : {}) };
}

/** The command of a `ps` line with `header`'s columns cut off (linear: one scan of the leading fields). */
function cutColumns(l: string, header: PsHeader): { text: string; pid?: number } {
  let i = 0;
  let pid: number | undefined;
  for (let c = 0; c < header.before; c++) {
    while (i < l.length && (l[i] === ' ' || l[i] === '\t')) i++;
    const start = i;
    while (i < l.length && l[i] !== ' ' && l[i] !== '\t') i++;
    if (c === header.pid && /^\d{1,10}$/.test(l.slice(start, i))) pid = Number(l.slice(start, i));
  }
  return { text: l.slice(i), ...(pid !== undefined ? { pid } : {}) };
}

/** A PID printed before the program (`ps -o pid=,args=`, `pgrep -a`). */
function leadingPid(args: string[], at: number): number | undefined {
  for (let i = 0; i < at; i++) if (/^\d{1,10}$/.test(args[i])) return Number(args[i]);
  return undefined;
}

/** The PID a part's name gives: `proc/1234/cmdline`, `vm-cmdlines/1234.cmdline`. */
function pidOfPart(part: string): number | undefined {
  const m = /(?:^|[/\\])(\d{1,10})(?:[/\\]cmdline|\.cmdline)$/.exec(part);
  return m ? Number(m[1]) : undefined;
}

interface ParsedVm {
  name: string;
  passthru: string[];
  memory?: number;
}

/** bhyve options that take a value (getopt string across FreeBSD 10–14; -C, -S, -H, -P, -A… take none). */
const BHYVE_WITH_ARG = new Set(['-B', '-c', '-f', '-g', '-G', '-k', '-K', '-l', '-m', '-o', '-p', '-r', '-s', '-U']);

function bhyve(args: string[]): ParsedVm {
  const passthru: string[] = [];
  let memory: number | undefined;
  let i = 0;
  for (; i < args.length; i++) {
    const a = args[i];
    if (!a.startsWith('-') || a === '-') break;
    // Clustered flags (-AHP) take no argument; `-m2G` carries it attached.
    const opt = a.slice(0, 2);
    if (!BHYVE_WITH_ARG.has(opt)) continue;
    const v = a.length > 2 ? a.slice(2) : args[++i];
    if (v === undefined) throw new InputError(`option ${opt} without its value`);
    if (opt === '-m') memory = bhyveMemSize(v);
    if (opt === '-s') {
      const parts = v.split(',');
      if (parts[1] === 'passthru') {
        const kv = Object.fromEntries(parts.slice(2).map((p) => p.split('=')).filter((x) => x.length === 2));
        // Newer key=value form: passthru,bus=3,slot=0,func=8.
        if (kv.bus !== undefined && kv.slot !== undefined && kv.func !== undefined) passthru.push(`${kv.bus}/${kv.slot}/${kv.func}`);
        else if (parts[2] !== undefined && !parts[2].includes('=')) passthru.push(parts[2]);
        else throw new InputError(`-s ${v}: passthru without a device`);
      }
    }
  }
  const name = args[args.length - 1];
  if (i >= args.length || name.startsWith('-')) throw new InputError('no VM name after the options');
  return { name, passthru, memory };
}

const VMRUN_WITH_ARG = new Set('cCdefFgHIlLmnpPt'.split(''));

function vmrun(args: string[]): ParsedVm {
  const passthru: string[] = [];
  let memory = 512 * MIB; // vmrun.sh DEFAULT_MEMSIZE
  let i = 0;
  for (; i < args.length; i++) {
    const a = args[i];
    if (!a.startsWith('-') || a === '-') break;
    if (a === '--') { i++; break; }
    for (let k = 1; k < a.length; k++) {
      const c = a[k];
      if (!VMRUN_WITH_ARG.has(c)) continue;
      const v = k + 1 < a.length ? a.slice(k + 1) : args[++i];
      if (v === undefined) throw new InputError(`option -${c} without its value`);
      if (c === 'm') memory = bhyveMemSize(v);
      if (c === 'p') passthru.push(v);
      break;
    }
  }
  if (i !== args.length - 1) throw new InputError(i >= args.length ? 'no VM name after the options' : `expected the VM name last, found ${JSON.stringify(args[i].slice(0, 80))}`);
  return { name: args[i], passthru, memory };
}

/** bhyve (vm_parse_memsize): a bare number below 1 MiB is MiB, else bytes; suffixes k/m/g/t (expand_number, binary). */
function bhyveMemSize(v: string): number {
  const m = /^(\d{1,16}(?:\.\d{1,16})?)([kmgtKMGT])?[bB]?$/.exec(v.trim());
  if (!m) throw new InputError(`memory size ${JSON.stringify(v.slice(0, 80))}`);
  const n = Number(m[1]);
  if (m[2] === undefined) return n < MIB ? n * MIB : n;
  const shift = { k: 10, m: 20, g: 30, t: 40 }[m[2].toLowerCase() as 'k' | 'm' | 'g' | 't'];
  const bytes = Math.round(n * 2 ** shift);
  if (!Number.isSafeInteger(bytes)) throw new InputError(`memory size ${v} is beyond 2^53 bytes`);
  return bytes;
}

/** `3/0/8`, `pci0:3:0:8`, `0000:03:00.0`, `03:00.0` → `SSSS:BB:DD.F`; names (`ppt0`) kept as written. */
function bdfText(spec: string, l: Line, part: string): string {
  if (!isBdfNotation(spec)) return spec;
  try {
    return formatBdf(parseBdf(spec));
  } catch (e) {
    if (e instanceof RangeError) throw new InputError(`pass-through device cannot exist: ${e.message}`, { file: part, line: l.no });
    throw e;
  }
}

/**
 * Tokens that may stand before the hypervisor program: a PID column, an interpreter or wrapper
 * (`/bin/sh vmrun.sh`, `nohup`, `env A=b`), their flags, or a pasted prompt (`#`, `root@host:~ #`).
 * Anything else (`grep bhyve`, `tail qemu.log`) means the line is another process.
 */
const LEAD_RE = /^(?:\d+|(?:\S*\/)?(?:sh|bash|dash|zsh|env|nohup|sudo|doas|daemon|exec|time|nice|taskset|numactl|chrt|ionice|prlimit|setsid)|-\S+|\w+=\S*|\S*[#$%>])$/;

function programIndex(args: string[]): number {
  for (let i = 0; i < args.length && i < 12; i++) {
    // Tokens this long are no program name nor a wrapper: skip the regexes on them.
    if (args[i].length > 4096) return -1;
    if (PROGRAM_RE.test(basename(args[i]))) return i;
    if (!LEAD_RE.test(args[i]) && !/^\S*@\S*$/.test(args[i])) return -1;
  }
  return -1;
}

function basename(p: string): string {
  return p.slice(p.lastIndexOf('/') + 1);
}

/**
 * Split like a POSIX shell would for simple pasted commands: quotes and backslashes. Runs of
 * ordinary characters are copied as slices (never a string grown one character at a time).
 */
function shellSplit(s: string): string[] {
  const out: string[] = [];
  let pieces: string[] = [];
  let has = false;
  let q: '"' | "'" | undefined;
  let run = 0; // start of the current run of literal characters
  const flush = (end: number): void => {
    if (end > run) pieces.push(s.slice(run, end));
  };
  const finish = (): void => {
    if (has || pieces.length > 0) out.push(pieces.length === 1 ? pieces[0] : pieces.join(''));
    pieces = [];
    has = false;
  };
  for (let i = 0; i < s.length; i++) {
    const c = s[i];
    if (q) {
      if (c === q) {
        flush(i);
        q = undefined;
        run = i + 1;
      } else if (c === '\\' && q === '"' && i + 1 < s.length) {
        flush(i);
        run = i + 1; // the escaped character starts the next run
        i++;
      }
      continue;
    }
    if (c === '{' && pieces.length === 0 && !has && run === i) {
      // A JSON argument (libvirt's -device {"driver":…}) as ps prints it: kept verbatim.
      const end = jsonEnd(s, i);
      pieces.push(s.slice(i, end));
      has = true;
      i = end - 1;
      run = end;
    } else if (c === '"' || c === "'") {
      flush(i);
      q = c;
      has = true;
      run = i + 1;
    } else if (c === '\\' && i + 1 < s.length) {
      flush(i);
      has = true;
      run = i + 1;
      i++;
    } else if (c === ' ' || c === '\t') {
      flush(i);
      finish();
      run = i + 1;
    }
  }
  flush(s.length);
  finish();
  return out;
}

/** Index just past the `}` that closes the `{` at `start` (strings respected), or the end of the text. */
function jsonEnd(s: string, start: number): number {
  let depth = 0;
  let inString = false;
  for (let i = start; i < s.length; i++) {
    const c = s[i];
    if (inString) {
      if (c === '\\') i++;
      else if (c === '"') inString = false;
    } else if (c === '"') inString = true;
    else if (c === '{') depth++;
    else if (c === '}' && --depth === 0) return i + 1;
  }
  return s.length;
}

/** Does the line end in a backslash (trailing blanks allowed)? Scans back from the end only. */
function continues(t: string): number {
  let i = t.length - 1;
  while (i >= 0 && (t[i] === ' ' || t[i] === '\t')) i--;
  return i >= 0 && t[i] === '\\' ? i : -1;
}

/** A logical line: its text, or only its length when it is longer than MAX_LINE_CHARS. */
interface JoinedLine extends Line {
  tooLong?: number;
}

/**
 * Pasted commands split over lines with a trailing backslash become one line (first line's number).
 * The pieces are joined once, so many continuation lines cost linear time.
 */
function joinContinuations(lines: Line[]): JoinedLine[] {
  const out: JoinedLine[] = [];
  let pieces: string[] = [];
  let length = 0;
  let no = 0;
  for (const l of lines) {
    const text = pieces.length > 0 ? l.text.trimStart() : l.text;
    if (pieces.length === 0) no = l.no;
    const cut = continues(text);
    // Once too long the pieces are no longer kept: the caller only needs to know the length.
    if (length <= MAX_LINE_CHARS) pieces.push(cut >= 0 ? text.slice(0, cut) : text);
    length += (pieces.length > 1 ? 1 : 0) + (cut >= 0 ? cut : text.length);
    if (cut >= 0) continue;
    out.push(length > MAX_LINE_CHARS ? { text: '', no, tooLong: length } : { text: pieces.join(' '), no });
    pieces = [];
    length = 0;
  }
  if (pieces.length > 0) out.push(length > MAX_LINE_CHARS ? { text: '', no, tooLong: length } : { text: pieces.join(' '), no });
  return out;
}
