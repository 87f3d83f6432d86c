/**
 * One remapping unit as a picture: devices → context (or PASID) entries → domains → VMs, as
 * four columns of boxes joined by curves. Data from src/checks/topology.ts; this file only lays
 * it out. Rows are capped (MAX_ROWS): a unit with thousands of context entries draws the first
 * rows — devices with findings and assigned devices first — and one "… N more" row.
 */
import type { Severity } from '../../checks/types.js';
import { severityRank } from '../../checks/types.js';
import type { TopologyDevice, TopologyDomain, TopologyUse, UnitTopology } from '../../model/topology.js';
import { hex } from '../../util/hex.js';
import { humanBytes } from '../format.js';
import { attr, clip, esc } from './escape.js';
import { byCodeUnits } from '../../util/compare.js';

/** Context rows drawn per unit (so one unit's picture has at most ~4 × MAX_ROWS boxes). */
const MAX_ROWS = 48;

const ROW = 40;
const BOX_H = 32;
const TOP = 28;
const COL = { dev: { x: 4, w: 236 }, ctx: { x: 290, w: 170 }, dom: { x: 510, w: 230 }, vm: { x: 790, w: 180 } };
const WIDTH = 980;

function box(col: { x: number; w: number }, y: number, cls: string, main: string, sub: string, tip: string, dot?: Severity): string {
  const maxChars = Math.floor(col.w / 7.4);
  return (
    `<g class="node ${cls}"${attr('data-t', tip)}>` +
    `<rect x="${col.x}" y="${y}" width="${col.w}" height="${BOX_H}" rx="5"/>` +
    `<text class="main" x="${col.x + 9}" y="${y + 14}">${esc(clip(main, maxChars))}</text>` +
    `<text class="sub" x="${col.x + 9}" y="${y + 26}">${esc(clip(sub, maxChars + 6))}</text>` +
    (dot ? `<circle class="dot sev-${dot}" cx="${col.x + col.w - 9}" cy="${y + 9}" r="4.5"/>` : '') +
    '</g>'
  );
}

function curve(x1: number, y1: number, x2: number, y2: number, cls: string): string {
  const mx = (x1 + x2) / 2;
  return `<path class="edge ${cls}" d="M${x1} ${y1}C${mx} ${y1} ${mx} ${y2} ${x2} ${y2}"/>`;
}

function useText(u: TopologyUse): { main: string; sub: string; cls: string } {
  const what = u.type === 'translated' ? 'translated' : u.type === 'pass-through' ? 'pass-through (no translation)' : u.type === 'blocked' ? 'blocked' : 'reserved type';
  const cls = u.type === 'translated' ? 'n-ctx' : 'n-ctx bad';
  // Scalable mode: the PASID on the first line, its PGTT beside what it means (a box holds ~22 characters).
  if (u.pasid !== undefined) return { main: `PASID ${u.pasid} · DID ${u.did}`, sub: `PGTT ${(u.pgtt ?? 0).toString(2).padStart(3, '0')}b · ${what}`, cls };
  return { main: `TT ${(u.tt ?? 0).toString(2).padStart(2, '0')}b · DID ${u.did}`, sub: what, cls };
}

function domainText(d: TopologyDomain): { main: string; sub: string } {
  const role = d.role === 'vm' ? (d.vms.length > 0 ? `VM domain (${d.vms.join(', ')})` : 'VM domain') : d.role === 'host' ? 'host domain' : 'unused';
  const size = d.mappingsKnown ? `${humanBytes(BigInt(d.pageCount) << 12n)} mapped` : 'tables not captured';
  return { main: `DID ${d.did} · ${size}`, sub: `${role} · root ${hex(d.root)}` };
}

/** Spread wanted positions so boxes keep one row apart, in the given order. */
function spread(wanted: number[]): number[] {
  const out: number[] = [];
  let next = TOP;
  for (const w of wanted) {
    const y = Math.max(w, next);
    out.push(y);
    next = y + ROW;
  }
  return out;
}

/** Append to the list under `key` (in place: a unit may have tens of thousands of uses). */
function push<K, V>(m: Map<K, V[]>, key: K, v: V): void {
  const list = m.get(key);
  if (list === undefined) m.set(key, [v]);
  else list.push(v);
}

/** Worst severity per BDF, for the dot on a device box. */
export type DeviceSeverity = ReadonlyMap<string, Severity>;

export function topologySvg(t: UnitTopology, worst: DeviceSeverity, title: string): string {
  const domainOrder = [...t.domains].sort((a, b) => {
    const rank = (d: TopologyDomain): number => (d.role === 'vm' ? 0 : d.role === 'host' ? 1 : 2);
    return rank(a) - rank(b) || byCodeUnits(a.vms[0] ?? '', b.vms[0] ?? '') || a.did - b.did || a.root - b.root;
  });
  const domIndex = new Map(domainOrder.map((d, i) => [d.key, i]));
  const usesOf = new Map<string, TopologyUse[]>();
  for (const u of t.uses) push(usesOf, u.bdf, u);
  // A device sorts by the first domain it reaches (computed once per device, not per comparison).
  const firstDomain = new Map<string, number>();
  for (const [bdf, us] of usesOf) {
    let first = 2e6;
    for (const u of us) first = Math.min(first, u.domain !== undefined ? domIndex.get(u.domain) ?? 1e6 : 1e6 + 1);
    firstDomain.set(bdf, first);
  }
  const devKey = (d: TopologyDevice): number => firstDomain.get(d.bdf) ?? 2e6;
  // Devices that matter first when the unit has more rows than we draw.
  const important = (d: TopologyDevice): number => (worst.has(d.bdf) ? 0 : d.assigned || d.passThrough || !d.inInventory ? 1 : 2);
  let devices = [...t.devices];
  let hidden = 0;
  const rowsOf = (d: TopologyDevice): number => Math.max(1, usesOf.get(d.bdf)?.length ?? 0);
  if (devices.reduce((n, d) => n + rowsOf(d), 0) > MAX_ROWS) {
    const keep = [...devices].sort((a, b) => important(a) - important(b) || devKey(a) - devKey(b) || byCodeUnits(a.bdf, b.bdf));
    const kept: TopologyDevice[] = [];
    let rows = 0;
    for (const d of keep) {
      if (rows + rowsOf(d) > MAX_ROWS - 1) break;
      kept.push(d);
      rows += rowsOf(d);
    }
    hidden = devices.length - kept.length;
    devices = kept;
  }
  devices.sort((a, b) => devKey(a) - devKey(b) || byCodeUnits(a.bdf, b.bdf));

  // Rows: one per use (a device with several PASIDs takes several), one for a device with none.
  const body: string[] = [];
  const domWant = new Map<string, number[]>();
  const vmWantDirect = new Map<string, number[]>();
  const edgesCtxDom: { y: number; key: string; cls: string }[] = [];
  const edgesDevVm: { y: number; vm: string }[] = [];
  let row = 0;
  for (const d of devices) {
    const us = usesOf.get(d.bdf) ?? [];
    const y0 = TOP + row * ROW;
    const sev = worst.get(d.bdf);
    const sub = [d.name, d.driver && !(d.name ?? '').startsWith(d.driver) ? d.driver : undefined, d.vm !== undefined ? `→ ${d.vm}` : undefined, !d.inInventory ? 'not in the inventory' : undefined].filter((x) => x !== undefined).join(' · ');
    const cls = `n-dev${d.assigned ? ' assigned' : d.passThrough ? ' pt' : ''}${!d.inInventory ? ' stale' : ''}`;
    body.push(box(COL.dev, y0, cls, d.bdf, sub || (d.passThrough ? 'pass-through driver' : 'host driver'), `${d.bdf}${sub ? ' — ' + sub : ''}`, sev));
    if (us.length === 0) {
      body.push(box(COL.ctx, y0, 'n-ctx none', 'no context entry', d.assigned ? 'DMA blocked' : 'idle', `${d.bdf} has no present context entry`));
      body.push(`<path class="edge dev" d="M${COL.dev.x + COL.dev.w} ${y0 + BOX_H / 2}H${COL.ctx.x}"/>`);
      if (d.vm !== undefined) edgesDevVm.push({ y: y0 + BOX_H / 2, vm: d.vm });
      row++;
      continue;
    }
    for (const u of us) {
      const y = TOP + row * ROW;
      const ut = useText(u);
      body.push(box(COL.ctx, y, ut.cls, ut.main, ut.sub, `${d.bdf}: ${ut.main}, ${ut.sub}`));
      body.push(y === y0 ? `<path class="edge dev" d="M${COL.dev.x + COL.dev.w} ${y + BOX_H / 2}H${COL.ctx.x}"/>` : curve(COL.dev.x + COL.dev.w, y0 + BOX_H / 2, COL.ctx.x, y + BOX_H / 2, 'dev'));
      if (u.domain !== undefined) {
        push(domWant, u.domain, y);
        edgesCtxDom.push({ y: y + BOX_H / 2, key: u.domain, cls: '' });
      } else {
        if (d.vm !== undefined) edgesDevVm.push({ y: y + BOX_H / 2, vm: d.vm });
      }
      row++;
    }
  }
  if (hidden > 0) {
    body.push(`<text class="more" x="${COL.dev.x + 9}" y="${TOP + row * ROW + 18}">… and ${hidden} more device${hidden === 1 ? '' : 's'} with context entries (not drawn)</text>`);
    row++;
  }

  // Domains beside their users; unused ones after.
  // Domains of the drawn rows, then unused ones; never more than MAX_ROWS (stray tables can be many).
  const candidates = domainOrder.filter((d) => domWant.has(d.key) || (hidden === 0 && d.role !== 'host'));
  const drawnDomains = candidates.slice(0, MAX_ROWS);
  if (candidates.length > MAX_ROWS) {
    body.push(`<text class="more" x="${COL.dom.x + 9}" y="${TOP + Math.max(row, MAX_ROWS) * ROW + 18}">… and ${candidates.length - MAX_ROWS} more domains (not drawn)</text>`);
    row = Math.max(row, MAX_ROWS) + 1;
  }
  const wanted = drawnDomains.map((d) => {
    const ys = domWant.get(d.key);
    return ys ? ys.reduce((a, b) => a + b, 0) / ys.length : TOP + row * ROW;
  });
  const order = drawnDomains.map((_, i) => i).sort((a, b) => wanted[a] - wanted[b]);
  const placed = spread(order.map((i) => wanted[i]));
  const domY = new Map<string, number>();
  order.forEach((i, k) => { domY.set(drawnDomains[i].key, placed[k]); });
  const vmWant = new Map<string, number[]>();
  for (const d of drawnDomains) {
    const y = domY.get(d.key)!;
    const dt = domainText(d);
    body.push(box(COL.dom, y, `n-dom ${d.role}`, dt.main, dt.sub, `domain DID ${d.did} (${d.kind}) — ${dt.sub}, ${dt.main}`));
    for (const v of d.vms) push(vmWant, v, y);
  }
  for (const e of edgesCtxDom) {
    const y = domY.get(e.key);
    if (y !== undefined) body.push(curve(COL.ctx.x + COL.ctx.w, e.y, COL.dom.x, y + BOX_H / 2, ''));
  }
  for (const e of edgesDevVm) push(vmWantDirect, e.vm, e.y - BOX_H / 2);

  // VMs beside their domains (or beside devices that reach them without a domain).
  const vmNames = t.vms.map((v) => v.name).filter((v) => vmWant.has(v) || vmWantDirect.has(v));
  const vmWanted = vmNames.map((v) => {
    const ys = [...(vmWant.get(v) ?? []), ...(vmWantDirect.get(v) ?? [])];
    return ys.reduce((a, b) => a + b, 0) / ys.length;
  });
  const vmOrder = vmNames.map((_, i) => i).sort((a, b) => vmWanted[a] - vmWanted[b]);
  const vmPlaced = spread(vmOrder.map((i) => vmWanted[i]));
  const vmY = new Map<string, number>();
  vmOrder.forEach((i, k) => { vmY.set(vmNames[i], vmPlaced[k]); });
  for (const v of t.vms) {
    const y = vmY.get(v.name);
    if (y === undefined) continue;
    const sub = `${v.hypervisor}${v.memoryBytes !== undefined ? ` · ${humanBytes(v.memoryBytes)}` : ''}`;
    body.push(box(COL.vm, y, 'n-vm', v.name, sub, `VM ${v.name} — ${sub}`));
  }
  for (const d of drawnDomains) {
    for (const v of d.vms) {
      const y = vmY.get(v);
      if (y !== undefined) body.push(curve(COL.dom.x + COL.dom.w, domY.get(d.key)! + BOX_H / 2, COL.vm.x, y + BOX_H / 2, 'vm'));
    }
  }
  for (const e of edgesDevVm) {
    const y = vmY.get(e.vm);
    if (y !== undefined) body.push(curve(COL.ctx.x + COL.ctx.w, e.y, COL.vm.x, y + BOX_H / 2, 'direct'));
  }

  const bottom = Math.max(TOP + row * ROW, ...[...domY.values(), ...vmY.values()].map((y) => y + ROW)) + 4;
  const head =
    `<text class="colh" x="${COL.dev.x}" y="14">Devices</text><text class="colh" x="${COL.ctx.x}" y="14">Context entries</text>` +
    `<text class="colh" x="${COL.dom.x}" y="14">Domains</text><text class="colh" x="${COL.vm.x}" y="14">VMs</text>`;
  // Edges under boxes: draw paths first.
  const edges = body.filter((b) => b.startsWith('<path'));
  const rest = body.filter((b) => !b.startsWith('<path'));
  return `<svg class="topo" viewBox="0 0 ${WIDTH} ${bottom}" role="img"${attr('aria-label', title)}>${head}${edges.join('')}${rest.join('')}</svg>`;
}

/** The most severe severity per BDF among findings. */
export function worstByBdf(findings: readonly { bdf?: string; severity: Severity }[]): Map<string, Severity> {
  const m = new Map<string, Severity>();
  for (const f of findings) {
    if (f.bdf === undefined) continue;
    const cur = m.get(f.bdf);
    if (cur === undefined || severityRank(f.severity) > severityRank(cur)) m.set(f.bdf, f.severity);
  }
  return m;
}

