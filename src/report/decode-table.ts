/**
 * `decode` default output, in the spirit of FreeBSD's dmardump: one section per remapping unit
 * (address, version, enabled or not, root table and mode), its present context entries per bus
 * (TT named as dmardump does: UNTR/TR/PASS/TT3?), PASID rows in scalable mode, the unit's
 * domains; then the inventory, VMs, faults, and the warnings with where they came from.
 * Unlike dmardump, it also shows units with translation off (their tables are still decoded).
 */
import { unitDmaMode } from '../model/dma.js';
import { contextsState, usesNoTables } from '../model/known.js';
import type { Domain, Mapping, Snapshot, Unit, ContextEntry, PasidEntry } from '../model/types.js';
import { hex, hexPad, pfnToAddr } from '../util/hex.js';
import { bold, columns, dim, humanBytes, plural, sourceLabel, unitBaseText, type ShowPath } from './format.js';
import { interruptRemappingLines } from './ir-table.js';
import { pciConfigLines } from './pci-config-table.js';
import { pushAll } from '../util/arrays.js';

export interface DecodeTableOptions {
  color: boolean;
  /** List every coalesced mapping under its domain (`decode --mappings`). */
  mappings?: boolean;
  /** How to print a part path (the CLI's: as the user gave it). */
  showPath?: ShowPath;
}

const TT_NAMES = ['UNTR', 'TR', 'PASS', 'TT3?'];
const PGTT_NAMES: Record<number, string> = { 1: 'FL', 2: 'SL', 3: 'NEST', 4: 'PT' };
const PAGE_NAMES: Record<number, string> = { 4096: '4K', 2097152: '2M', 1073741824: '1G' };

export function ttName(tt: number | undefined): string {
  return tt === undefined ? '-' : (TT_NAMES[tt] ?? `TT${tt}?`);
}

export function pgttName(pgtt: number): string {
  return PGTT_NAMES[pgtt] ?? `PGTT${pgtt}?`;
}

/** AW field → "48-bit/4-level" (width 30 + 9·AW, as the spec's table). */
export function awText(aw: number, levels: number): string {
  if (aw < 0) return '?'; // not in the source (dmardump prints no AW)
  return `${Math.min(64, 30 + 9 * aw)}-bit/${levels}-level`;
}

/** "16 MiB (0x1000000)": human and exact. */
export function bytesText(pages: number): string {
  const bytes = BigInt(pages) << 12n;
  return `${humanBytes(bytes)} (${hex(bytes)})`;
}

function domainFor(u: Unit, did: number, root: number): Domain | undefined {
  return u.domains.find((d) => d.did === did && d.root === root);
}

function mappedText(d: Domain | undefined): string {
  if (!d) return '-';
  if (!d.mappingsKnown) return 'unknown (no page tables in capture)';
  return bytesText(d.pageCount) + (d.complete ? '' : ' incomplete');
}

function contextRow(u: Unit, c: ContextEntry): string[] {
  const label = c.driverHint ? `${c.bdf} (${c.driverHint})` : c.bdf;
  if (!c.present) return [label, '-', '', '', '', 'not present'];
  if (c.pasids) {
    const dir = c.pasidDirPtr !== undefined ? `PASID dir ${hex(c.pasidDirPtr)}` : 'PASID dir -';
    return [label, 'SM', '', '', dir, `${plural(c.pasids.length, 'PASID')}${c.ridPasid ? `, RID_PASID ${c.ridPasid}` : ''}`];
  }
  const fpd = c.fpd ? ' FPD' : '';
  if (c.tt === 2) return [label, 'PASS' + fpd, String(c.did), awText(c.aw, c.levels), hex(c.slptptr), 'pass-through (IOVA = HPA)'];
  return [label, ttName(c.tt) + fpd, String(c.did), awText(c.aw, c.levels), hex(c.slptptr), mappedText(domainFor(u, c.did, c.slptptr))];
}

function pasidRow(u: Unit, p: PasidEntry): string[] {
  const name = pgttName(p.pgtt) + (p.fpd ? ' FPD' : '');
  const label = `  PASID ${p.pasid}`;
  switch (p.pgtt) {
    case 4:
      return [label, name, String(p.did), '', '', 'pass-through (IOVA = HPA)'];
    case 1:
      return [label, name, String(p.did), `${p.flpm ? 5 : 4}-level FL`, `FL ${hex(p.flptptr)}`, mappedText(domainFor(u, p.did, p.flptptr))];
    default:
      return [label, name, String(p.did), awText(p.aw, p.levels), hex(p.slptptr), mappedText(domainFor(u, p.did, p.slptptr))];
  }
}

function capabilityLine(u: Unit): string | undefined {
  const r = u.registers;
  if (!r?.CAP && !r?.ECAP) return undefined;
  const parts: string[] = [];
  if (r.CAP) {
    // Only the widths the spec defines (bits 1–3); reserved bits and ND = 7 are named, not decoded.
    const widths = [1, 2, 3].filter((k) => r.CAP!.SAGAW & (1 << k)).map((k) => `${30 + 9 * k}`);
    const reserved = [0, 4].filter((k) => r.CAP!.SAGAW & (1 << k));
    const reservedText = reserved.length ? ` + reserved bit${reserved.length > 1 ? 's' : ''} ${reserved.join(' and ')}` : '';
    parts.push(`SAGAW ${widths.length ? widths.join('/') + '-bit' : 'none'}${reservedText}`, r.CAP.ND === 7 ? 'ND 7 (reserved)' : `${r.CAP.domains} domains`);
    const sp = [r.CAP.SLLPS & 1 ? '2M' : '', r.CAP.SLLPS & 2 ? '1G' : ''].filter(Boolean);
    parts.push(`superpages ${sp.length ? sp.join('/') : 'none'}`);
    if (r.CAP.CM) parts.push('CM');
  }
  if (r.ECAP) {
    const e = r.ECAP;
    const flags = (['PT', 'DT', 'SC', 'QI', 'IR', 'SMTS', 'NEST', 'FLTS', 'SLTS', 'ADMS'] as const).filter((k) => e[k]);
    parts.push(`ECAP ${flags.length ? flags.join(' ') : '-'}`);
  }
  return parts.join(', ');
}

/** FSTS when it reports anything, and the fault recording registers that hold a fault. */
function faultStatusLine(u: Unit): string | undefined {
  const r = u.registers;
  const f = r?.FSTS;
  const held = (r?.faultRecords ?? []).filter((x) => x.F).length;
  if (!f || (f.raw === 0 && held === 0)) return undefined;
  const names: [keyof typeof f, string][] = [['PFO', 'PFO (fault overflow)'], ['PPF', 'PPF (primary fault pending)'], ['AFO', 'AFO'], ['APF', 'APF'], ['IQE', 'IQE (invalidation queue error)'], ['ICE', 'ICE (invalidation completion error)'], ['ITE', 'ITE (invalidation time-out)'], ['PRO', 'PRO (page request overflow)']];
  const set = names.filter(([k]) => f[k] === true).map(([, n]) => n);
  return `fault status FSTS ${hex(f.raw)}: ${set.length ? set.join(', ') : 'no flag'}${f.PPF ? `, FRI ${f.FRI}` : ''}; ${plural(held, 'fault record')} with F = 1 (listed under Faults)`;
}

function mappingLines(d: Domain): string[] {
  const rows = d.mappings.map((m: Mapping) => {
    const iova = pfnToAddr(m.iovaPfn);
    const size = BigInt(m.pages) << 12n;
    return [`${hex(iova)}-${hex(iova + size - 1n)}`, '→', hex(pfnToAddr(m.hpaPfn)), humanBytes(size), `${m.read ? 'R' : '-'}${m.write ? 'W' : '-'}`, PAGE_NAMES[m.pageSize] ?? String(m.pageSize)];
  });
  if (!rows.length) return ['        (no mappings)'];
  return columns(rows, { indent: '        ', gap: 1, right: [3] });
}

/**
 * The root table line of a unit without one: what RTADDR.TTM makes the unit do (model/dma.ts) —
 * abort-DMA mode reads no table, a TTM the unit does not support faults — or that the capture
 * does not say.
 */
function noRootTableText(u: Unit): string {
  const rt = u.registers?.RTADDR;
  const dma = unitDmaMode(u);
  if (rt !== undefined && (rt.TTM === 3 || dma.kind === 'faults') && dma.kind !== 'translated') {
    const ttm = `RTADDR.TTM = ${rt.TTM.toString(2).padStart(2, '0')}b`;
    if (dma.kind === 'untranslated') return `none in effect: ${ttm}${rt.TTM === 3 ? ' (abort-DMA mode)' : ''}, but translation is off (GSTS.TES = 0), so the DMA is untranslated`;
    if (dma.kind === 'blocked') return `none: abort-DMA mode (${ttm}): every DMA request is blocked, no table is read`;
    if (dma.kind === 'faults' && dma.cause === 'ttm') return `none: ${dma.why}; no table is read`;
  }
  return 'unknown (no RTADDR, debugfs or --rtaddr)';
}

function unitSection(u: Unit, opts: DecodeTableOptions): string[] {
  const out: string[] = [];
  const v = u.version ?? u.registers?.VER;
  const name = u.name ?? u.registers?.name;
  const state =
    u.translationEnabled === undefined ? 'translation state unknown' : u.translationEnabled ? 'translation enabled' : 'translation DISABLED';
  out.push(
    bold(`drhd @ ${unitBaseText(u)}`, opts.color) +
      `${v ? ` (version ${v.major}.${v.minor})` : ''} PCI segment ${u.segment}${name ? ` [${name}]` : ''}: ${state}`,
  );
  const mode = u.mode ?? u.registers?.RTADDR?.mode;
  if (u.rootTable !== undefined) {
    const src = u.rootTableSource ? dim(` from ${sourceLabel(u.rootTableSource, opts.showPath)}`, opts.color) : '';
    out.push(`    root table @ ${hex(u.rootTable)} (${mode ?? 'mode unknown'})${src}${u.rootTablePointerSet === false ? ', RTPS clear' : ''}`);
  } else {
    out.push(`    root table: ${noRootTableText(u)}`);
  }
  const dma = unitDmaMode(u);
  if (u.rootTable !== undefined && dma.kind === 'faults' && dma.cause === 'ttm') out.push(`    ${dma.why}`);
  const caps = capabilityLine(u);
  if (caps) out.push(`    ${caps}`);
  const fsts = faultStatusLine(u);
  if (fsts) out.push(`    ${fsts}`);

  if (u.contexts.length) {
    const contexts = [...u.contexts].sort((a, b) => a.bus - b.bus || a.devfn - b.devfn);
    type Item = { bus: number } | { cells: string[] };
    const items: Item[] = [];
    let bus = -1;
    for (const c of contexts) {
      if (c.bus !== bus) {
        bus = c.bus;
        items.push({ bus });
      }
      items.push({ cells: contextRow(u, c) });
      for (const p of c.pasids ?? []) items.push({ cells: pasidRow(u, p) });
    }
    const header = ['BDF', 'TT', 'DID', 'AW', 'SLPT root', 'mapped'];
    const rows = [header, ...items.filter((i): i is { cells: string[] } => 'cells' in i).map((i) => i.cells)];
    const laid = columns(rows, { indent: '        ', right: [2] });
    out.push(dim(laid[0], opts.color));
    let k = 1;
    for (const it of items) {
      if ('bus' in it) out.push(`    PCI bus ${it.bus} (${hexPad(it.bus, 2)}):`);
      else out.push(laid[k++]);
    }
  } else if (usesNoTables(u)) {
    // The root table line says why no context entry is read.
  } else if (contextsState(u) === 'unknown' && u.rootTable !== undefined) {
    // Unknown is not absent: the capture names a root table it does not hold.
    const why = (u.unreadableTables ?? []).find((t) => t.structure === 'root')?.message;
    out.push(`    context entries unknown${why ? `: ${why}` : ''}`);
  } else {
    out.push(contextsState(u) === 'partial' ? '    no context entry could be read' : '    no context entries');
  }
  const lostContexts = (u.unreadableTables ?? []).filter((x) => x.structure === 'context');
  lostContexts.forEach((t, i) => {
    // Whole buses lost for one reason (a text dump cut short) print as one range of buses.
    const whole = (x: (typeof lostContexts)[number] | undefined): boolean => x !== undefined && x.message === t.message && x.devfns?.[0] === 0 && x.devfns?.[1] === 0xff;
    if (whole(t) && whole(lostContexts[i - 1]) && lostContexts[i - 1].bus === (t.bus ?? 0) - 1) return;
    let last = i;
    while (whole(t) && whole(lostContexts[last + 1]) && lostContexts[last + 1].bus === (lostContexts[last].bus ?? 0) + 1) last++;
    const buses = last > i ? `buses ${t.bus}-${lostContexts[last].bus} (${hexPad(t.bus ?? 0, 2)}-${hexPad(lostContexts[last].bus ?? 0, 2)})` : `bus ${t.bus} (${hexPad(t.bus ?? 0, 2)})`;
    out.push(`    PCI ${buses}${t.devfns && t.devfns[1] - t.devfns[0] < 255 ? ` devfn ${hex(t.devfns[0])}-${hex(t.devfns[1])}` : ''}: context entries unknown (${t.message})`);
  });

  if (u.domains.length) {
    out.push(`    domains (${u.domains.length}):`);
    const rows = [['DID', 'root', 'kind', 'levels', 'pages', 'mapped', 'state']];
    const domains = [...u.domains].sort((a, b) => a.did - b.did || a.root - b.root);
    for (const d of domains) {
      rows.push([
        String(d.did), hex(d.root), d.kind, d.aw < 0 ? '?' : String(d.levels),
        d.mappingsKnown ? String(d.pageCount) : '?',
        d.mappingsKnown ? bytesText(d.pageCount) : 'unknown',
        !d.mappingsKnown ? 'no page tables in capture' : d.complete ? 'complete' : 'incomplete',
      ]);
    }
    const laid = columns(rows, { indent: '        ', right: [0, 3, 4] });
    out.push(dim(laid[0], opts.color));
    domains.forEach((d, i) => {
      out.push(laid[i + 1]);
      if (opts.mappings && d.mappingsKnown) pushAll(out, mappingLines(d));
    });
  }

  out.push(...interruptRemappingLines(u, opts));

  if (u.tableProblems.length) {
    out.push(`    table problems (${u.tableProblems.length}):`);
    for (const p of u.tableProblems) {
      const where = p.source ? ` [${sourceLabel(p.source, opts.showPath)}]` : '';
      out.push(`        ${p.structure} ${p.kind} at ${hex(p.entryAddr)}: ${p.message}${where}`);
    }
  }
  return out;
}

function dmarLine(s: Snapshot): string[] {
  const d = s.dmar;
  if (!d) return [`DMAR table: not in capture (host address width ${s.haw} bits assumed)`];
  const flags = [d.intrRemap ? 'INTR_REMAP' : '', d.x2apicOptOut ? 'X2APIC_OPT_OUT' : '', d.dmaCtrlPlatformOptIn ? 'DMA_CTRL_PLATFORM_OPT_IN' : ''].filter(Boolean);
  const kinds = new Map<string, number>();
  for (const st of d.structures) kinds.set(st.kind, (kinds.get(st.kind) ?? 0) + 1);
  const kindText = [...kinds].map(([k, n]) => `${n} ${k}`).join(', ');
  const lines = [
    `DMAR table: ${d.oemId.trim()} ${d.oemTableId.trim()} rev ${d.revision}, HAW ${d.haw} bits, flags ${hex(d.flags)}${flags.length ? ` (${flags.join(', ')})` : ''}, ${plural(d.structures.length, 'structure')}${kindText ? ` (${kindText})` : ''}${d.checksumOk ? '' : ', CHECKSUM BAD'}`,
  ];
  for (const st of d.structures) {
    if (st.kind === 'RMRR') lines.push(`    RMRR ${hex(st.base)}-${hex(st.limit)} segment ${st.segment}, ${plural(st.scopes.length, 'device scope')}`);
  }
  for (const p of d.problems) lines.push(`    ${p.severity}: ${p.message} (offset ${hex(p.offset)})`);
  return lines;
}

function inventorySection(s: Snapshot): string[] {
  const out: string[] = [];
  const ppt = s.devices.filter((d) => d.passThrough);
  if (!s.inventoryKnown) {
    out.push(`Inventory: not in capture${s.devices.length ? ` (${plural(s.devices.length, 'function')} named by other parts)` : ''}`);
  } else {
    out.push(`Inventory: ${plural(s.devices.length, 'PCI function')}, ${ppt.length} pass-through`);
  }
  if (ppt.length) {
    const rows = ppt.map((d) => [d.bdf, d.deviceUnit ?? d.driver ?? '-', d.vm ? `VM ${d.vm}` : 'no VM', [d.vendorName, d.deviceName].filter(Boolean).join(' ')]);
    out.push(...columns(rows, { indent: '    ' }));
  }
  return out;
}

function vmSection(s: Snapshot): string[] {
  if (!s.vmsKnown && !s.vms.length) return ['VMs: not in capture'];
  const out = [`VMs: ${s.vms.length}`];
  const rows = s.vms.map((v) => [v.name, v.hypervisor, v.memoryBytes !== undefined ? humanBytes(v.memoryBytes) : '-', v.passthru.length ? `passthru ${v.passthru.join(' ')}` : 'no passthru']);
  out.push(...columns(rows, { indent: '    ' }));
  return out;
}

function faultSection(s: Snapshot, show?: ShowPath): string[] {
  if (!s.faults.length) return [];
  const out = [`Faults: ${s.faults.length}`];
  const rows = s.faults.map((f) => [
    f.bdf, f.type, hex(pfnToAddr(f.iovaPfn) + BigInt(f.iovaOffset)), `reason ${hex(f.reason)} ${f.reasonName ?? f.reasonText}${f.reasonName !== undefined && f.reasonText !== '' && f.reasonText !== f.reasonName ? ` ("${f.reasonText}")` : ''}`.trim(),
    f.unit !== undefined ? `unit ${hex(f.unit)}` : '', sourceLabel(f.source, show),
  ]);
  const laid = columns(rows, { indent: '    ' });
  s.faults.forEach((f, i) => {
    out.push(laid[i]);
    // Why, according to the capture's own tables (src/model/faults.ts).
    if (f.explanation) out.push(`        ${f.explanation.method === 'none' ? '' : '→ '}${f.explanation.text}`);
  });
  return out;
}

export function renderDecodeTable(s: Snapshot, opts: DecodeTableOptions): string {
  const out: string[] = [];
  const partCount = plural(s.capture.parts.filter((p) => p.kind !== 'ignored').length, 'part');
  out.push(s.capture.path === '' ? `Capture: ${partCount} named by options` : `Capture: ${s.capture.path} (${partCount})`);
  out.push(...dmarLine(s));
  out.push('');
  if (!s.units.length) out.push('No remapping units found.', '');
  for (const u of [...s.units].sort((a, b) => a.segment - b.segment || a.registerBase - b.registerBase)) {
    pushAll(out, unitSection(u, opts));
    out.push('');
  }
  out.push(...inventorySection(s));
  out.push(...pciConfigLines(s));
  out.push(...vmSection(s));
  if (s.memoryMapKnown) {
    const ram = s.memoryMap.filter((r) => r.type === 'ram').reduce((a, r) => a + (r.end - r.start), 0);
    out.push(`Memory map: ${plural(s.memoryMap.length, 'region')}, ${humanBytes(ram)} RAM`);
  }
  const faults = faultSection(s, opts.showPath);
  if (faults.length) out.push(...faults);
  if (s.warnings.length) {
    out.push('', bold(`Warnings (${s.warnings.length}):`, opts.color));
    for (const w of s.warnings) {
      const src = sourceLabel(w.source, opts.showPath);
      out.push(`    ${src ? src + ': ' : ''}${w.message}`);
    }
  }
  return out.join('\n') + '\n';
}
