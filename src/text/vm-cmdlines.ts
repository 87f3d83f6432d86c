/**
 * VM command lines → Vm records. Input: `ps -ww -o args` output (one process per line, header
 * `COMMAND`/`ARGS` skipped; a listing that starts with the header and names no VM process means
 * no VM runs), pasted shell commands (quotes, `\` continuations), or /proc/PID/cmdline contents
 * (arguments separated by NUL; several files may be joined by newlines).
 *
 * - bhyve (usr.sbin/bhyve): `-s slot[:func],passthru,B/S/F` (also `pci0:3:0:8`, `pci3:0:8`, or a
 *   FreeBSD device name such as `ppt0`), `-m size` (bare number < 1 MiB means MiB, as
 *   vm_parse_memsize does; k/m/g/t suffixes binary), the VM name is the last argument.
 *   A running bhyve calls setproctitle(vmname), so ps shows `bhyve: myvm (bhyve)`, not the
 *   arguments: that gives no pass-through list, so it is reported as a warning, not as a Vm
 *   (a Vm with an empty list would read as "this VM has no devices").
 * - vmrun.sh (share/examples/bhyve/vmrun.sh, getopts `aAc:C:d:e:Ef:F:g:hH:iI:l:L:m:n:p:P:t:Tuvw`):
 *   `-p passthru` (repeatable), `-m memsize` (default 512M), last argument the VM name.
 * - QEMU/KVM (qemu-system-*, qemu-kvm, kvm): `-device vfio-pci,host=0000:03:00.0[,…]` (also
 *   `sysfsdev=/sys/bus/pci/devices/…`, the JSON form `{"driver":"vfio-pci","host":…}` libvirt
 *   writes, and the old `pci-assign`), `-m 4096` (MiB) / `4G` / `size=4G[,…]`,
 *   `-name guest=vm1,debug-threads=on` or `-name vm1`.
 * - Xen xl config lines: `name = "vm1"`, `memory = 2048` (MiB), `pci = [ '03:00.0', … ]`.
 * BDFs are formatted `SSSS:BB:DD.F`; a FreeBSD device name that is no BDF (`ppt0`) is kept as
 * written for the model builder to resolve against the inventory.
 */
import { InputError } from '../errors.js';
import type { Contribution } from '../model/contribution.js';
import type { Vm } from '../model/types.js';
import { formatBdf, parseBdf } from '../util/bdf.js';
import { headLines, type Line, LineWarnings, textLines } from './lines.js';

const MIB = 1024 * 1024;
const VM_WORD_RE = /(?:^|[\s/])(?:bhyve|vmrun\.sh|qemu-system-[\w-]+|qemu-kvm|kvm)(?:\s|$|\0)|^bhyve: /m;
const XEN_PCI_RE = /^\s*pci\s*=\s*\[(.*)\]\s*$/;
const XEN_NAME_RE = /^\s*name\s*=\s*["']([^"']+)["']\s*$/;
const XEN_MEMORY_RE = /^\s*memory\s*=\s*(\d+)\s*$/;

export function looksLikeVmCommandLines(text: string): boolean {
  return headLines(text).some((l) => VM_WORD_RE.test(l) || XEN_PCI_RE.test(l));
}

class LineError extends Error {}

export function parseVmCommandLines(text: string, part: string): Contribution {
  const w = new LineWarnings(part);
  const vms: Vm[] = [];
  let recognised = 0;
  let xen: Vm | undefined;

  for (const l of joinContinuations(textLines(text))) {
    const t = l.text;
    if (t.trim() === '' || /^\s*(COMMAND|ARGS|CMD)\s*$/.test(t)) continue;

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

    if ((m = /^\s*(?:\d+\s+)?bhyve: (\S+)(?: \(bhyve\))?\s*$/.exec(t))) {
      recognised++;
      w.warn(`bhyve process of VM ${m[1]} shows only its title (bhyve calls setproctitle): its pass-through devices are unknown; capture the command line that started it (vmrun.sh line, vm-bhyve config)`, l.no);
      continue;
    }

    const args = t.includes('\0') ? t.split('\0').filter((a) => a !== '') : shellSplit(t);
    const at = programIndex(args);
    if (at < 0) {
      // Another process (ps lists them all): skipped silently unless it names a hypervisor.
      if (/\b(?:bhyve|qemu)/.test(t) && !/^\s*(?:\S*\/)?(?:grep|pgrep|ps|less|more|tail|vi|vim)\s/.test(t) && !/\bbhyvectl\b/.test(t)) {
        w.warn('line mentions bhyve/qemu but is no command line of either, skipped', l.no);
      }
      continue;
    }
    recognised++;
    const prog = basename(args[at]);
    const rest = args.slice(at + 1);
    try {
      const vm = prog === 'bhyve' ? bhyve(rest) : prog === 'vmrun.sh' ? vmrun(rest) : qemu(rest);
      const out: Vm = { name: vm.name, hypervisor: prog === 'bhyve' || prog === 'vmrun.sh' ? 'bhyve' : 'qemu', passthru: vm.passthru.map((p) => bdfText(p, l, part)), source: { part, line: l.no } };
      if (vm.memory !== undefined) out.memoryBytes = vm.memory;
      vms.push(out);
    } catch (e) {
      if (e instanceof LineError) w.warn(`${prog} command line not understood (${e.message}), skipped`, l.no);
      else throw e;
    }
  }

  // A `ps` listing (it starts with its COMMAND/ARGS header) naming no VM process says "no VM
  // runs": a capture taken after the last VM was shut down. Anything else is not VM data.
  const first = textLines(text).find((l) => l.text.trim() !== '');
  if (recognised === 0 && first !== undefined && /^\s*(COMMAND|ARGS|CMD)\s*$/.test(first.text)) return { vms, warnings: w.done() };
  if (recognised === 0) {
    throw new InputError('does not look like VM command lines (no bhyve, vmrun.sh or qemu process, no Xen pci = [...] line)', { file: part, line: 1 });
  }
  return { vms, warnings: w.done() };
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
    if (v === undefined) throw new LineError(`option ${opt} without its value`);
    if (opt === '-m') memory = memSize(v, 'bhyve');
    if (opt === '-s') {
      const parts = v.split(',');
      if (parts[1] === 'passthru') {
        const kv = Object.fromEntries(parts.slice(2).map((p) => p.split('=')).filter((x) => x.length === 2));
        // Newer key=value form: passthru,bus=3,slot=0,func=8.
        if (kv.bus !== undefined && kv.slot !== undefined && kv.func !== undefined) passthru.push(`${kv.bus}/${kv.slot}/${kv.func}`);
        else if (parts[2] !== undefined && !parts[2].includes('=')) passthru.push(parts[2]);
        else throw new LineError(`-s ${v}: passthru without a device`);
      }
    }
  }
  const name = args[args.length - 1];
  if (i >= args.length || name.startsWith('-')) throw new LineError('no VM name after the options');
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
      if (v === undefined) throw new LineError(`option -${c} without its value`);
      if (c === 'm') memory = memSize(v, 'bhyve');
      if (c === 'p') passthru.push(v);
      break;
    }
  }
  if (i !== args.length - 1) throw new LineError(i >= args.length ? 'no VM name after the options' : `expected the VM name last, found ${JSON.stringify(args[i])}`);
  return { name: args[i], passthru, memory };
}

function qemu(args: string[]): ParsedVm {
  const passthru: string[] = [];
  let memory: number | undefined = 128 * MIB; // QEMU's default RAM size
  let name: string | undefined;
  for (let i = 0; i < args.length; i++) {
    const a = args[i].replace(/^--/, '-');
    const v = args[i + 1];
    if (a === '-name' && v !== undefined) {
      i++;
      const g = /(?:^|,)guest=([^,]+)/.exec(v);
      name = g ? g[1] : v.split(',')[0];
    } else if (a === '-m' && v !== undefined) {
      i++;
      const s = /(?:^|,)size=([^,]+)/.exec(v);
      memory = memSize(s ? s[1] : v.split(',')[0], 'qemu');
    } else if (a === '-device' && v !== undefined) {
      i++;
      const host = qemuDeviceHost(v);
      if (host !== undefined) passthru.push(host);
    }
  }
  if (name === undefined) throw new LineError('no -name');
  return { name, passthru, memory };
}

/** The host device of a vfio-pci/pci-assign -device value, or undefined for other devices. */
function qemuDeviceHost(v: string): string | undefined {
  if (v.startsWith('{')) {
    let o: unknown;
    try {
      o = JSON.parse(v);
    } catch {
      throw new LineError(`-device ${v}: not valid JSON`);
    }
    if (typeof o !== 'object' || o === null) return undefined;
    const r = o as Record<string, unknown>;
    if (r.driver !== 'vfio-pci' && r.driver !== 'pci-assign') return undefined;
    if (typeof r.host === 'string') return r.host;
    if (typeof r.sysfsdev === 'string') return basename(r.sysfsdev);
    throw new LineError(`-device ${v}: no host`);
  }
  const [driver, ...props] = v.split(',');
  if (driver !== 'vfio-pci' && driver !== 'pci-assign') return undefined;
  for (const p of props) {
    if (p.startsWith('host=')) return p.slice(5);
    if (p.startsWith('sysfsdev=')) return basename(p.slice(9));
  }
  throw new LineError(`-device ${v}: no host= or sysfsdev=`);
}

/**
 * Memory sizes. bhyve (vm_parse_memsize): a bare number below 1 MiB is MiB, else bytes;
 * suffixes k/m/g/t (expand_number, binary). QEMU: a bare number is MiB; suffixes K/M/G/T binary.
 */
function memSize(v: string, how: 'bhyve' | 'qemu'): number {
  const m = /^(\d+(?:\.\d+)?)([kmgtKMGT])?[bB]?$/.exec(v.trim());
  if (!m) throw new LineError(`memory size ${JSON.stringify(v)}`);
  const n = Number(m[1]);
  if (m[2] === undefined) {
    if (how === 'qemu') return Math.round(n * MIB);
    return n < MIB ? n * MIB : n;
  }
  const shift = { k: 10, m: 20, g: 30, t: 40 }[m[2].toLowerCase() as 'k' | 'm' | 'g' | 't'];
  return Math.round(n * 2 ** shift);
}

/** `3/0/8`, `pci0:3:0:8`, `0000:03:00.0`, `03:00.0` → `SSSS:BB:DD.F`; names (`ppt0`) kept as written. */
function bdfText(spec: string, l: Line, part: string): string {
  try {
    const b = parseBdf(spec);
    if (b) return formatBdf(b);
  } catch (e) {
    if (e instanceof RangeError) throw new InputError(`pass-through device cannot exist: ${e.message}`, { file: part, line: l.no });
    throw e;
  }
  return spec;
}

const PROGRAM_RE = /^(?:bhyve|vmrun\.sh|qemu-system-[\w-]+|qemu-kvm|kvm)$/;
/**
 * Tokens that may stand before the hypervisor program: a PID column, an interpreter or wrapper
 * (`/bin/sh vmrun.sh`, `nohup`, `env A=b`), their flags, or a pasted prompt (`#`, `root@host:~ #`).
 * Anything else (`grep bhyve`, `tail qemu.log`) means the line is another process.
 */
const LEAD_RE = /^(?:\d+|(?:\S*\/)?(?:sh|bash|dash|zsh|env|nohup|sudo|doas|daemon|exec|time|nice|taskset|numactl)|-\S+|\w+=\S*|\S*[#$%>])$/;

function programIndex(args: string[]): number {
  for (let i = 0; i < args.length && i < 12; i++) {
    if (PROGRAM_RE.test(basename(args[i]))) return i;
    if (!LEAD_RE.test(args[i]) && !/^\S*@\S*$/.test(args[i])) return -1;
  }
  return -1;
}

function basename(p: string): string {
  return p.slice(p.lastIndexOf('/') + 1);
}

/** Split like a POSIX shell would for simple pasted commands: quotes and backslashes. */
function shellSplit(s: string): string[] {
  const out: string[] = [];
  let cur = '';
  let has = false;
  let q: '"' | "'" | undefined;
  for (let i = 0; i < s.length; i++) {
    const c = s[i];
    if (q) {
      if (c === q) q = undefined;
      else if (c === '\\' && q === '"' && i + 1 < s.length) cur += s[++i];
      else cur += c;
    } else if (c === '{' && cur === '' && !has) {
      // A JSON argument (libvirt's -device {"driver":…}) as ps prints it: kept verbatim.
      const end = jsonEnd(s, i);
      cur = s.slice(i, end);
      has = true;
      i = end - 1;
    } else if (c === '"' || c === "'") {
      q = c;
      has = true;
    } else if (c === '\\' && i + 1 < s.length) {
      cur += s[++i];
      has = true;
    } else if (c === ' ' || c === '\t') {
      if (has || cur !== '') out.push(cur);
      cur = '';
      has = false;
    } else {
      cur += c;
    }
  }
  if (has || cur !== '') out.push(cur);
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

/** Pasted commands split over lines with a trailing backslash become one line (first line's number). */
function joinContinuations(lines: Line[]): Line[] {
  const out: Line[] = [];
  let pending: Line | undefined;
  for (const l of lines) {
    const text = pending ? `${pending.text} ${l.text.trimStart()}` : l.text;
    const no = pending ? pending.no : l.no;
    if (/\\\s*$/.test(text)) {
      pending = { text: text.replace(/\\\s*$/, ''), no };
      continue;
    }
    pending = undefined;
    out.push({ text, no });
  }
  if (pending) out.push(pending);
  return out;
}
