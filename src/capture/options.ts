import type { PartKind } from '../model/types.js';

/** Parts named on the command line override what a capture directory holds. */
export interface CaptureOptions {
  dmar?: string;
  registers?: string[];
  memory?: string;
  /** Physical address of the first byte of a raw image. */
  base?: number;
  rtaddr?: ({ base?: number; addr: number } | { auto: true })[];
  dmardump?: string[];
  debugfs?: string[];
  dmesg?: string[];
  pci?: string[];
  vms?: string[];
  memoryMap?: string[];
  only?: PartKind[];
  ignore?: PartKind[];
  /**
   * Called with the bytes read from a memory image over 1 GiB while its tables are walked (the
   * CLI draws a progress line from it); not called for smaller images.
   */
  onImageRead?: (bytesRead: number, imageBytes: number) => void;
}
