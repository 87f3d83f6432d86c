/** MSI address/data decoding (VT-d spec §5.1.2.1 / §5.1.2.2); addresses composed by hand bit by bit. */
import { describe, expect, it } from 'vitest';
import { decodeMsi, isInterruptAddress } from '../../src/decode/msi.js';

describe('compatibility format (address bit 4 = 0)', () => {
  it('0xfee03004 / 0x4041: APIC id 3, logical, vector 0x41, fixed, edge, level bit set', () => {
    // 0xfee03004: bits 19:12 = 0x03, bit 4 = 0, bit 3 (RH) = 0, bit 2 (DM) = 1 (0x4)
    // 0x4041: vector 0x41, bits 10:8 = 0 fixed, bit 14 = 1 (0x4000), bit 15 = 0 edge
    const m = decodeMsi(0xfee03004, 0x4041);
    expect(m).toMatchObject({
      format: 'compatibility', destinationId: 3, RH: false, DM: true, addressReserved: 0,
      vector: 0x41, deliveryModeValue: 0, deliveryMode: 'fixed', levelTriggered: false, level: true,
    });
  });

  it('0xfeeff008 / 0x8441: APIC id 0xff, RH, level-triggered NMI', () => {
    // 0xff << 12 = 0xff000; RH bit 3 = 0x8. Data: bit 15 = 0x8000, bits 10:8 = 100b (0x400) = NMI, vector 0x41
    const m = decodeMsi(0xfeeff008n, 0x8441);
    expect(m).toMatchObject({ format: 'compatibility', destinationId: 0xff, RH: true, DM: false, deliveryMode: 'NMI', levelTriggered: true, vector: 0x41 });
  });

  it('address bits 11:5 are kept as addressReserved', () => {
    // 0x7f << 5 = 0xfe0
    const m = decodeMsi(0xfee00fe0, 0);
    expect(m.format === 'compatibility' && m.addressReserved).toBe(0x7f);
  });
});

describe('remappable format (address bit 4 = 1)', () => {
  it('handle 22 with SHV, subhandle 0: 0xfee002d8 → index 22', () => {
    // 22 << 5 = 0x2c0; bit 4 (0x10) format; bit 3 (0x8) SHV → 0xfee00000 + 0x2c0 + 0x18 = 0xfee002d8
    const m = decodeMsi(0xfee002d8, 0);
    expect(m).toEqual({ format: 'remappable', address: 0xfee002d8, data: 0, handle: 22, SHV: true, subhandle: 0, interruptIndex: 22, dataReserved: 0 });
  });

  it('handle 0x10, SHV, subhandle 3: index = handle + subhandle = 0x13', () => {
    // 0x10 << 5 = 0x200 → 0xfee00218
    const m = decodeMsi(0xfee00218, 3);
    expect(m.format === 'remappable' && [m.handle, m.subhandle, m.interruptIndex]).toEqual([0x10, 3, 0x13]);
  });

  it('handle[15] comes from address bit 2: handle 0x8005 → 0xfee000b4, no SHV → index 0x8005, data ignored', () => {
    // 5 << 5 = 0xa0; bit 2 = 0x4; bit 4 = 0x10 → 0xb4
    const m = decodeMsi(0xfee000b4, 0x1234);
    expect(m.format === 'remappable' && [m.handle, m.SHV, m.subhandle, m.interruptIndex]).toEqual([0x8005, false, undefined, 0x8005]);
  });

  it('index may pass 16 bits: handle 0xffff + subhandle 0xffff = 0x1fffe; data 31:16 kept as dataReserved', () => {
    // handle[14:0] = 0x7fff → bits 19:5 all set = 0xfffe0; handle[15] → bit 2; format + SHV → 0x18
    const m = decodeMsi(0xfeefffe0 + 0x4 + 0x18, 0x0001_ffff); // = 0xfeeffffc
    expect(m.format === 'remappable' && [m.handle, m.interruptIndex, m.dataReserved]).toEqual([0xffff, 0x1fffe, 1]);
  });
});

describe('the interrupt window', () => {
  it('0xfee00000–0xfeefffff only, with bits 63:32 zero', () => {
    expect(isInterruptAddress(0xfee00000)).toBe(true);
    expect(isInterruptAddress(0xfeefffff)).toBe(true);
    expect(isInterruptAddress(0xfef00000)).toBe(false);
    expect(isInterruptAddress(0xfedfffff)).toBe(false);
    expect(isInterruptAddress(0x1_fee0_0000n)).toBe(false);
    expect(() => decodeMsi(0xfed00000, 0)).toThrow(/outside the interrupt window/);
    expect(() => decodeMsi(0x1_fee0_0000n, 0)).toThrow(RangeError);
    expect(() => decodeMsi(0xfee00000, 0x1_0000_0000)).toThrow(/32-bit/);
  });
});
