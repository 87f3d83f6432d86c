/**
 * IRTE and MSI encoders for tests and the sample generator (never used by decoders). Layouts: VT-d
 * spec chapter 9 (docs/interrupt-remapping.md): remapped IRTE bit 0 P, 1 FPD, 2 DM, 3 RH, 4 TM,
 * 7:5 DLM, 15 IM = 0, 23:16 V, 63:32 DST, 79:64 SID, 81:80 SQ, 83:82 SVT; posted IRTE 14 URG,
 * 15 IM = 1, 23:16 VV, 63:38 PDA-L (descriptor bits 31:6), 127:96 PDA-H (bits 63:32). MSI
 * address (VT-d 5.1.2): remappable format bit 4 = 1, handle[14:0] in bits 19:5, handle[15] in
 * bit 2, SHV bit 3.
 */

export interface IrteSpec {
  /** Source-id: bus << 8 | devfn (or start bus << 8 | end bus with SVT 10b). */
  sid: number;
  /** Default 01b (verify SID with SQ). */
  svt?: number;
  sq?: number;
  fpd?: boolean;
  present?: boolean;
}

export interface RemappedSpec extends IrteSpec {
  vector: number;
  /** Raw DST; default 0x100 (xAPIC APIC id 1, as Linux writes it). */
  dst?: number;
  /** Logical destination mode and redirection hint, as Linux sets them (default true). */
  logical?: boolean;
}

export interface PostedSpec extends IrteSpec {
  vector: number;
  /** Posted-interrupt descriptor address (64-byte aligned). */
  pda: bigint;
  urgent?: boolean;
}

function high(s: IrteSpec): bigint {
  return (BigInt((s.svt ?? 1) & 3) << 18n) | (BigInt((s.sq ?? 0) & 3) << 16n) | BigInt(s.sid & 0xffff);
}

function low(s: IrteSpec): bigint {
  return (s.present === false ? 0n : 1n) | (s.fpd ? 2n : 0n);
}

/** [bits 63:0, bits 127:64] of a remapped IRTE. */
export function remappedIrte(s: RemappedSpec): [bigint, bigint] {
  const logical = s.logical ?? true;
  const lo = low(s) | (logical ? 0b1100n : 0n) | (BigInt(s.vector & 0xff) << 16n) | (BigInt((s.dst ?? 0x100) >>> 0) << 32n);
  return [lo, high(s)];
}

/** [bits 63:0, bits 127:64] of a posted IRTE. */
export function postedIrte(s: PostedSpec): [bigint, bigint] {
  if ((s.pda & 0x3fn) !== 0n) throw new RangeError(`posted descriptor ${s.pda.toString(16)} is not 64-byte aligned`);
  const pdaL = (s.pda & 0xffff_ffffn) >> 6n;
  const pdaH = s.pda >> 32n;
  const lo = low(s) | (s.urgent ? 1n << 14n : 0n) | (1n << 15n) | (BigInt(s.vector & 0xff) << 16n) | (pdaL << 38n);
  return [lo, high(s) | (pdaH << 32n)];
}

/** The MSI address a device writes for IRTE `index` in remappable format (no subhandle), and data 0. */
export function remappableMsi(index: number): { address: number; data: number } {
  return { address: 0xfee0_0000 + ((index & 0x7fff) << 5) + 0x10 + ((index >> 15) << 2), data: 0 };
}

/**
 * Linux debugfs `ir_translation_struct` for unit dmar0 (drivers/iommu/intel/debugfs.c
 * ir_tbl_remap_entry_show): the remapped entries, each row index, SID as bus:dev.fn, DST, vector,
 * then IRTE_high and IRTE_low in hex.
 */
export function formatIrTranslation(tableAddress: number, entries: { index: number; lo: bigint; hi: bigint }[]): string {
  const rows = entries.map(({ index, lo, hi }) => {
    const sid = Number(hi & 0xffffn);
    const sidText = `${(sid >> 8).toString(16).padStart(2, '0')}:${((sid >> 3) & 0x1f).toString(16).padStart(2, '0')}.${sid & 7}`;
    const dst = Number((lo >> 32n) & 0xffff_ffffn).toString(16).padStart(8, '0');
    const vct = Number((lo >> 16n) & 0xffn).toString(16).padStart(2, '0');
    return ` ${String(index).padEnd(5)} ${sidText} ${dst} ${vct}  ${hi.toString(16).padStart(16, '0')}\t${lo.toString(16).padStart(16, '0')}`;
  });
  return ['Remapped Interrupt supported on IOMMU: dmar0', ` IR table address:${tableAddress.toString(16)}`, ' Entry SrcID   DstID    Vct IRTE_high\t\tIRTE_low', ...rows, '', '****', ''].join('\n');
}
