import { describe, expect, it } from 'vitest';
import { irCompatAllowed } from '../../src/checks/ir-compat-allowed.js';
import { bhyveHost, PPT, UNIT } from './fixtures.js';
import { findingsOf } from './check-tester.js';
import { summary } from './snapshot-builder.js';

describe('ir-compat-allowed', () => {
  it('IRES set, EIME clear, CFIS set on the unit of an assigned device: error', () => {
    const f = findingsOf(irCompatAllowed, bhyveHost((u) => u.ir({ compatibilityFormat: true, x2apic: false })).build());
    expect(summary(f)).toEqual([`ir-compat-allowed error ${PPT}`]);
    expect(f[0].message).toMatch(/GSTS\.CFIS = 1, IRTA\.EIME = 0/);
    expect(f[0].evidence).toMatchObject({ eime: false, assigned: [PPT] });
  });

  it('with EIME set compatibility format is blocked whatever CFIS says (VT-d 5.1.4): quiet', () => {
    expect(findingsOf(irCompatAllowed, bhyveHost((u) => u.ir({ compatibilityFormat: true, x2apic: true })).build())).toEqual([]);
  });

  it('quiet with CFIS clear, and with IR off (CFIS means nothing then)', () => {
    expect(findingsOf(irCompatAllowed, bhyveHost().build())).toEqual([]);
    expect(findingsOf(irCompatAllowed, bhyveHost((u) => u.ir({ enabled: false, compatibilityFormat: true, x2apic: false })).build())).toEqual([]);
  });

  it('EIME unknown (IRTA not captured): reported, and the message says it holds if EIME is clear', () => {
    const f = findingsOf(irCompatAllowed, bhyveHost((u) => u.ir({ compatibilityFormat: true, x2apic: undefined })).build());
    expect(f.map((x) => x.evidence.eime)).toEqual([null]);
    expect(f[0].message).toMatch(/IRTA not captured, so this holds if EIME is clear/);
  });

  it('a unit that covers no assigned device: warning, saying why', () => {
    const s = bhyveHost()
      .dmar((d) => d.drhd(UNIT, { endpoints: [PPT] }).drhd(0xfed91000, { includePciAll: true }))
      .unit(0xfed91000, (u) => u.regs().ir({ compatibilityFormat: true, x2apic: false }))
      .build();
    const f = findingsOf(irCompatAllowed, s);
    expect(f.map((x) => [x.unit, x.severity, x.severityReason])).toEqual([['0xfed91000', 'warning', 'the unit covers no assigned device']]);
  });
});
