import { describeDescriptor, invalidatesContextCache, invalidatesIotlb } from '../../decode/invalidation.js';
import { entryViews } from '../../model/diff.js';
import { descriptorsSince, type OrderedDescriptor } from '../../model/invalidation-queue.js';
import type { Snapshot } from '../../model/types.js';
import { hex } from '../../util/hex.js';
import { finding, ran } from '../finding.js';
import { checkMeta, type EvidenceValue, type Finding } from '../types.js';
import { definePairCheck } from './types.js';

const meta = checkMeta({
  id: 'did-reused',
  defaultSeverity: 'warning',
  summary: 'a domain id that pointed at one table root before and at a different one after, without the invalidations that make re-use safe',
  description: `## What it means
On one unit, DID *n* translated through second-level table root A in BEFORE and through a
different root B in AFTER, and no entry uses (DID *n*, A) any more: the domain id was freed and
handed to a new domain (or the domain's tables were replaced in place). Linux does this at every
VFIO teardown: the device goes back to its own DMA domain, which gets the DID the VM's domain freed.

## Why it matters
The IOTLB and context cache are tagged by DID. Re-using a DID is safe only after the context-cache
and IOTLB entries of the old domain were invalidated; without that, devices of the new domain can
still hit translations cached from the old one — into memory the old owner (possibly a torn-down
VM) no longer has. The tables look right in both captures; only the pair shows the re-use.

## How it decides
When AFTER holds the unit's invalidation queue (debugfs \`invalidation_queue\`), the descriptors
written since BEFORE (the slots whose contents changed, when BEFORE holds the queue too; else the
whole ring) are searched for a context-cache invalidation that covers DID *n* (global, or domain-
or device-selective with that DID; a PASID-cache one in scalable mode) and an IOTLB invalidation
that covers all of it (global or domain-selective; PASID-selective PASID-based), both already
fetched by the hardware (not between Head and Tail):
- both found: \`info\`, naming the slots;
- either missing: \`warning\` — the ring keeps only its last descriptors (256 on Linux), so an
  invalidation older than that is gone from it; page-selective IOTLB invalidations alone do not drop
  the old domain's other translations.
Without the queue in AFTER it cannot tell, and says so (\`info\`). A unit whose root table moved
between the captures (another boot) is \`info\` too.

## How to fix / where to look
Check that the driver invalidates (context cache, then IOTLB, domain-selective) when it frees a
DID, before reusing it; capture \`invalidation_queue\` with the tables to see it. Delaying DID reuse
narrows the window (Linux hands out the lowest free DID, so a freed one comes back at once).

Inputs: tables in both captures (AFTER's invalidation queue decides the severity).`,
  needs: ['tables'],
  messages: {
    rootTableMoved: (d: Reuse) => `${reuseHead(d)}: make sure the context cache and IOTLB were invalidated for DID ${d.did} before it was re-used.`,
    noInvalidationQueue: (d: Reuse & { ignoredQueue?: string }) =>
      `${reuseHead(d)}: re-using a DID is safe once the context cache and IOTLB were invalidated for it; AFTER holds no invalidation queue (debugfs invalidation_queue), so whether they were cannot be told${d.ignoredQueue !== undefined ? ` (its ${d.ignoredQueue} is listed as ignored in capture.json: declare it as kind invalidation-queue to use it)` : ''}.`,
    invalidated: (d: Reuse & Invalidated) =>
      `${reuseHead(d)}: among ${d.scope} the invalidation queue holds a context-cache invalidation (slot ${d.contextCache.slot.index}: ${describeDescriptor(d.contextCache.descriptor)}) and an IOTLB invalidation (slot ${d.iotlb.slot.index}: ${describeDescriptor(d.iotlb.descriptor)}) for it, so the re-use is safe.`,
    notInvalidated: (d: Reuse & NotInvalidated) =>
      `${reuseHead(d)}: ${d.scope} hold no ${d.missing} invalidation covering DID ${d.did}${d.pending > 0 ? ` (${d.pending} still pending, not yet fetched by the hardware)` : ''}: devices of the new domain may hit translations cached for the old one. The ring keeps only its last ${d.ringSlots} descriptors; an older invalidation would be gone from it.`,
  },
  example: { before: 'did-reuse-before', after: 'did-reuse-after' },
});

/** A DID re-used: the table roots it pointed at before and after. */
interface Reuse { did: number; gone: number[]; fresh: number[] }
interface Invalidated { scope: string; contextCache: OrderedDescriptor; iotlb: OrderedDescriptor }
interface NotInvalidated { scope: string; missing: string; pending: number; ringSlots: number }

function reuseHead(d: Reuse): string {
  return `DID ${d.did} pointed at table root ${d.gone.map(hex).join(', ')} before and at ${d.fresh.map(hex).join(', ')} after`;
}

/** A descriptor in evidence: its slot, raw qwords and what it does. */
function slotEvidence(d: OrderedDescriptor): EvidenceValue {
  return { slot: d.slot.index, qw: d.slot.qw.map((w) => hex(w)), descriptor: describeDescriptor(d.descriptor) };
}

type QueueVerdict = { evidence: { [key: string]: EvidenceValue } } & (
  | { messageId: 'invalidated'; severity: 'info'; reason: string; data: Invalidated }
  | { messageId: 'notInvalidated'; severity: 'warning'; data: NotInvalidated }
);

/** What AFTER's invalidation queue says about DID `did` being re-used on `unit`. */
function fromQueue(before: Snapshot, after: Snapshot, unit: number, did: number): QueueVerdict | undefined {
  const q = after.units.find((u) => u.registerBase === unit)?.invalidationQueue;
  if (q === undefined) return undefined;
  const earlier = before.units.find((u) => u.registerBase === unit)?.invalidationQueue;
  const since = descriptorsSince(q, earlier);
  const comparable = earlier !== undefined && since.length < q.slots.length;
  const done = since.filter((d) => !d.pending);
  const cc = done.filter((d) => invalidatesContextCache(d.descriptor, did));
  const iotlb = done.filter((d) => invalidatesIotlb(d.descriptor, did) === 'all');
  const pages = done.filter((d) => invalidatesIotlb(d.descriptor, did) === 'pages');
  const pending = since.filter((d) => d.pending && (invalidatesContextCache(d.descriptor, did) || invalidatesIotlb(d.descriptor, did) !== undefined));
  const scope = comparable ? `the ${since.length} descriptors written since BEFORE` : `the ${done.length} descriptors of the ring`;
  const evidence = {
    queue: { unit: q.unitName, base: hex(q.base), head: q.head, tail: q.tail, considered: since.length, sinceBefore: comparable },
    contextCacheInvalidations: cc.slice(0, 4).map(slotEvidence),
    iotlbInvalidations: iotlb.slice(0, 4).map(slotEvidence),
    ...(pages.length > 0 ? { pageSelectiveIotlb: pages.length } : {}),
    ...(pending.length > 0 ? { pending: pending.slice(0, 4).map(slotEvidence) } : {}),
  };
  if (cc.length > 0 && iotlb.length > 0) {
    return {
      messageId: 'invalidated', severity: 'info', reason: `the invalidation queue holds a context-cache and an IOTLB invalidation for DID ${did}`, evidence,
      data: { scope, contextCache: cc[0], iotlb: iotlb[0] },
    };
  }
  const missing = [cc.length === 0 ? 'context-cache' : '', iotlb.length === 0 ? `IOTLB${pages.length > 0 ? ` (only ${pages.length} page-selective ones, which leave the rest of the old domain's translations)` : ''}` : ''].filter((x) => x !== '').join(' nor ');
  return { messageId: 'notInvalidated', severity: 'warning', evidence, data: { scope, missing, pending: pending.length, ringSlots: q.slots.length } };
}

export const didReused = definePairCheck({
  meta,
  run(before, after) {
    const out: Finding[] = [];
    // (unit, did) → roots seen on each side, from entries that translate through a table.
    const rootsOf = (views: { unit: number; did: number; root: number; mode: number; pasid?: number }[]): Map<string, Set<number>> => {
      const m = new Map<string, Set<number>>();
      for (const v of views) {
        const translated = v.pasid === undefined ? v.mode === 0 || v.mode === 1 : v.mode === 2 || v.mode === 3;
        if (!translated) continue;
        const k = `${v.unit}:${v.did}`;
        const s = m.get(k) ?? new Set<number>();
        s.add(v.root);
        m.set(k, s);
      }
      return m;
    };
    const viewsBefore = [...entryViews(before).values()];
    const viewsAfter = [...entryViews(after).values()];
    const rootsBefore = rootsOf(viewsBefore);
    const rootsAfter = rootsOf(viewsAfter);
    for (const [k, newRoots] of rootsAfter) {
      const oldRoots = rootsBefore.get(k);
      if (!oldRoots) continue;
      const gone = [...oldRoots].filter((r) => !newRoots.has(r));
      const fresh = [...newRoots].filter((r) => !oldRoots.has(r));
      if (gone.length === 0 || fresh.length === 0) continue;
      const [unitText, didText] = k.split(':');
      const unit = Number(unitText);
      const did = Number(didText);
      const users = viewsAfter.filter((v) => v.unit === unit && v.did === did).map((v) => v.bdf);
      const reuse: Reuse = { did, gone, fresh };
      const base = {
        unit, did, ...(users.length ? { bdf: [...new Set(users)].sort()[0] } : {}),
      };
      const evidence = { rootsBefore: gone.map(hex), rootsAfter: fresh.map(hex), usersAfter: [...new Set(users)].sort() };
      // A new root table means the unit's tables were rebuilt (reboot, driver reload): every DID
      // starts afresh and the hardware caches were reset with the new root; not a live re-use.
      const rootBefore = before.units.find((u) => u.registerBase === unit)?.rootTable;
      const rootAfter = after.units.find((u) => u.registerBase === unit)?.rootTable;
      if (rootBefore !== undefined && rootAfter !== undefined && rootBefore !== rootAfter) {
        out.push(finding(meta, {
          ...base, severity: 'info', severityReason: `the unit's root table moved (${hex(rootBefore)} → ${hex(rootAfter)}): the captures are probably from different boots`,
          messageId: 'rootTableMoved', data: reuse,
          evidence,
        }));
        continue;
      }
      const v = fromQueue(before, after, unit, did);
      if (v === undefined) {
        // A manifest written before dmarsift read the queue may list the file as ignored: say so.
        const listed = after.capture.parts.find((p) => p.kind === 'ignored' && /(?:^|[/\\])invalidation_queue$/.test(p.path));
        out.push(finding(meta, {
          ...base, severity: 'info', severityReason: 'AFTER holds no invalidation queue: whether the caches were invalidated cannot be told',
          messageId: 'noInvalidationQueue', data: { ...reuse, ignoredQueue: listed?.path },
          evidence,
        }));
        continue;
      }
      const found = { ...base, evidence: { ...evidence, ...v.evidence } };
      out.push(v.messageId === 'invalidated'
        ? finding(meta, { ...found, severity: v.severity, severityReason: v.reason, messageId: 'invalidated', data: { ...reuse, ...v.data } })
        : finding(meta, { ...found, severity: v.severity, messageId: 'notInvalidated', data: { ...reuse, ...v.data } }));
    }
    return ran(out);
  },
});
