/**
 * A finding's identity across captures of one host: its `fingerprint`, which a baseline
 * (baseline.ts) and code-scanning dashboards (SARIF `partialFingerprints`) match findings by, and
 * its `vm`.
 *
 * What a host keeps from boot to boot is what its firmware and its configuration fix: the
 * remapping units' register bases, the devices' BDFs, the VMs' names and which domain is whose.
 * What moves is everything the kernel allocates: root and context tables, page-table pages, the
 * host pages behind a VM's memory, and domain ids (Linux and FreeBSD hand DIDs out as domains are
 * made). So a fingerprint is a hash of
 *
 *   the check, the finding's message variant (messageId), the unit, the BDF, the VM, and the role
 *   of the domain the finding names (the host domain, the VM domain of VM X, another domain),
 *
 * never of an address, a raw entry or a DID. Two findings that agree on all of that (one check on
 * one device that flags two leaked ranges) are told apart by their rank among themselves, in an
 * order that leaves addresses out too (fingerprintOrder), so the set of fingerprints of a capture
 * is the same after a reboot even when which range is "first" by address is not.
 */
import type { EvidenceValue, Finding } from '../checks/types.js';
import { type DomainInfo, roles, type Roles } from '../model/roles.js';
import type { Snapshot } from '../model/types.js';
import { byCodeUnits } from '../util/compare.js';
import { sha256Hex } from '../util/sha256.js';

/** The fingerprint's recipe version: SARIF `partialFingerprints` key, and part of what is hashed. */
export const FINGERPRINT_KEY = 'dmarsift/v2';

/**
 * Evidence fields that hold host addresses, raw entries or lists of them: they change from boot to
 * boot, so they never decide the order among findings that share everything else.
 */
const VOLATILE_EVIDENCE = new Set([
  'root', 'roots', 'slptptr', 'flptptr', 'raw', 'entryAddr', 'entry', 'hpa', 'pages', 'hits', 'examples', 'rootTable', 'rtaddr',
  'target', 'domains', 'runs', 'largestRun', 'firstOutside', 'gsts', 'faults', 'offset',
]);

/**
 * VM names QEMU processes get when their command line has no `-name` (src/text/vm-cmdlines.ts
 * names them by PID, or by part and line): a PID changes at every start, so all such VMs are one
 * name to a fingerprint.
 */
function stableVmName(name: string): string {
  return /^qemu-\d+$/.test(name) || /^qemu@/.test(name) ? '(unnamed qemu)' : name;
}

function unitBase(f: Finding): number | undefined {
  if (f.unit === undefined || !/^0x[0-9a-f]+$/i.test(f.unit)) return undefined;
  return Number.parseInt(f.unit.slice(2), 16);
}

/** The snapshot's domains by DID, built once per Roles (a hostile capture has ~65 000 domains and as many findings). */
const domainsByDid = new WeakMap<Roles, Map<number, DomainInfo[]>>();

function domainsWithDid(r: Roles, did: number): DomainInfo[] {
  let index = domainsByDid.get(r);
  if (index === undefined) {
    index = new Map();
    for (const d of r.domains.values()) {
      const list = index.get(d.domain.did);
      if (list) list.push(d);
      else index.set(d.domain.did, [d]);
    }
    domainsByDid.set(r, index);
  }
  return index.get(did) ?? [];
}

/** The domains a finding names: its DID on its unit (none when it names no DID). */
function domainsOf(f: Finding, r: Roles): DomainInfo[] {
  const base = unitBase(f);
  if (f.did === undefined) return [];
  return domainsWithDid(r, f.did).filter((d) => base === undefined || d.unit.registerBase === base);
}

/**
 * The VM a finding concerns, where the capture tells: the check's own `evidence.vm`, the VM its
 * device is assigned to, or the one VM whose domain it names.
 */
export function vmOfFinding(f: Finding, r: Roles): string | undefined {
  if (f.vm !== undefined) return f.vm;
  if (typeof f.evidence.vm === 'string' && f.evidence.vm !== '') return f.evidence.vm;
  const assigned = f.bdf !== undefined ? r.assigned.get(f.bdf)?.vm : undefined;
  if (assigned !== undefined) return assigned;
  const vms = new Set(domainsOf(f, r).flatMap((d) => [...d.vms]));
  return vms.size === 1 ? [...vms][0] : undefined;
}

/**
 * The role of the domain a finding names by DID: `vm-domain:NAMES` (the VMs whose devices use
 * it), `host-domain`, `other-domain` (used by neither: stale or unknown devices), `no-domain`
 * (the DID names no domain the capture walked); '' when the finding names no DID.
 */
export function domainRole(f: Finding, r: Roles): string {
  if (f.did === undefined) return '';
  const infos = domainsOf(f, r);
  if (infos.length === 0) return 'no-domain';
  const vm = infos.filter((d) => d.isVm);
  if (vm.length > 0) return `vm-domain:${[...new Set(vm.flatMap((d) => [...d.vms].map(stableVmName)))].sort().join(',')}`;
  return infos.some((d) => d.isHost) ? 'host-domain' : 'other-domain';
}

/** The evidence without its volatile fields, as text: the order among otherwise equal findings. */
function stableSignature(f: Finding): string {
  const kept: [string, EvidenceValue][] = Object.entries(f.evidence).filter(([k]) => !VOLATILE_EVIDENCE.has(k)).sort(([a], [b]) => byCodeUnits(a, b));
  return JSON.stringify([f.severity, kept]);
}

function hash(parts: readonly (string | number)[]): string {
  return sha256Hex(JSON.stringify(parts)).slice(0, 32);
}

/**
 * Set `vm` (where known) and `fingerprint` on every finding of one capture, in place. Findings
 * that share check, message, unit, BDF, VM and domain role are ranked by their address-free
 * evidence, then by the order given (the runner's), and the rank joins the hash.
 */
export function assignFingerprints(snapshot: Snapshot, findings: Finding[]): void {
  const r = roles(snapshot);
  const groups = new Map<string, { f: Finding; at: number; signature: string }[]>();
  findings.forEach((f, at) => {
    const vm = vmOfFinding(f, r);
    if (vm !== undefined) f.vm = vm;
    const key = JSON.stringify([f.check, f.messageId ?? '', f.unit ?? '', f.bdf ?? '', vm !== undefined ? stableVmName(vm) : '', domainRole(f, r)]);
    const list = groups.get(key) ?? [];
    list.push({ f, at, signature: stableSignature(f) });
    groups.set(key, list);
  });
  for (const [key, list] of groups) {
    list.sort((a, b) => (a.signature < b.signature ? -1 : a.signature > b.signature ? 1 : a.at - b.at));
    list.forEach(({ f }, rank) => {
      f.fingerprint = hash([FINGERPRINT_KEY, key, rank]);
    });
  }
}
