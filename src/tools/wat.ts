/** Assemble WebAssembly text with wabt (a dev dependency): for `npm run wasm` and its tests. */
import wabtInit from 'wabt';

/** The project's modules use SIMD (leaf-run.wat) and bulk memory (json-lines.wat). */
export async function assembleWat(name: string, text: string): Promise<Uint8Array> {
  const wabt = await wabtInit();
  const module = wabt.parseWat(name, text, { simd: true, bulk_memory: true });
  try {
    module.validate();
    return module.toBinary({}).buffer;
  } finally {
    module.destroy();
  }
}

export const assembleLeafRun = (text: string): Promise<Uint8Array> => assembleWat('leaf-run.wat', text);
