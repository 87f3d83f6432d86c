/** Assemble WebAssembly text with wabt (a dev dependency): for `npm run wasm` and its test. */
import wabtInit from 'wabt';

export async function assembleLeafRun(text: string): Promise<Uint8Array> {
  const wabt = await wabtInit();
  const module = wabt.parseWat('leaf-run.wat', text, { simd: true });
  try {
    module.validate();
    return module.toBinary({}).buffer;
  } finally {
    module.destroy();
  }
}
