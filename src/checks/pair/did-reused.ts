import { entryViews } from '../../model/diff.js';
import { hex } from '../../util/hex.js';
import { finding } from '../finding.js';
import type { CheckMeta, Finding } from '../types.js';
import type { PairCheck } from './types.js';

const meta: CheckMeta = {
  id: 'did-reused',
  defaultSeverity: 'warning',
  summary: 'a domain id that pointed at one table root before and at a different one after',
  description: `## What it means
On one unit, DID *n* translated through second-level table root A in BEFORE and through a
different root B in AFTER, and no entry uses (DID *n*, A) any more: the domain id was freed and
handed to a new domain (or the domain's tables were replaced in place).

## Why it matters
The IOTLB and context cache are tagged by DID. Re-using a DID is legal only after a
domain-selective IOTLB and context-cache invalidation; without it, devices of the new domain can
still hit translations cached from the old one — into memory the old owner (possibly a torn-down
VM) no longer has. The tables look right in both captures; only the pair shows the re-use.

## How to fix / where to look
Check that the driver invalidates (context cache, then IOTLB, domain-selective) when it frees a
DID, before reusing it. Delaying DID reuse (as Linux does with its domain id bitmap) narrows the
window.

Inputs: tables in both captures.`,
  needs: ['tables'],
};

export const didReused: PairCheck = {
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
      // A new root table means the unit's tables were rebuilt (reboot, driver reload): every DID
      // starts afresh and the hardware caches were reset with the new root; not a live re-use.
      const rootBefore = before.units.find((u) => u.registerBase === unit)?.rootTable;
      const rootAfter = after.units.find((u) => u.registerBase === unit)?.rootTable;
      const rebuilt = rootBefore !== undefined && rootAfter !== undefined && rootBefore !== rootAfter;
      out.push(finding(meta, {
        ...(rebuilt ? { severity: 'info' as const, severityReason: `the unit's root table moved (${hex(rootBefore)} → ${hex(rootAfter)}): the captures are probably from different boots` } : {}),
        message: `DID ${did} pointed at table root ${gone.map(hex).join(', ')} before and at ${fresh.map(hex).join(', ')} after: make sure the context cache and IOTLB were invalidated for DID ${did} before it was re-used.`,
        unit, did, ...(users.length ? { bdf: [...new Set(users)].sort()[0] } : {}),
        evidence: { rootsBefore: gone.map(hex), rootsAfter: fresh.map(hex), usersAfter: [...new Set(users)].sort() },
      }));
    }
    return out;
  },
};
