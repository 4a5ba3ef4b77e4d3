import { EncoderMimi } from '../../models/mimi/encoderMimi';
import { MimiConfig } from '../../models/mimi/mimiConfig';
import { mimiRealtimeLoop } from '../../parity/mimiRunners';
import { openWeights } from '../../weights/store';
import type { NameMap } from '../../weights/nameMap';
import type { EncodedFeatures } from './encode';

/**
 * Mimi features of a 16 kHz signal: offline (sinc resampling; long signals in chunks, see EncoderMimi.forward) or
 * through MaAI's realtime loop (10 ms chunks).
 */
export async function encodeMimi(
  weightsFile: string,
  wave: Float32Array,
  stream: boolean,
  frameHz: number,
  onProgress: (done: number, total: number) => void,
  config: Partial<MimiConfig> = {},
  nameMap?: NameMap,
): Promise<EncodedFeatures> {
  const enc = EncoderMimi.load(await openWeights(weightsFile, { nameMap }), { frameHz, config });
  try {
    if (stream) {
      const out = mimiRealtimeLoop(enc, wave, 160, onProgress);
      return { data: out.data, frames: out.shape[0], dim: out.shape[1], frameHz };
    }
    const y = enc.forward(wave, { onProgress });
    const r = { data: y.dataSync() as Float32Array, frames: y.shape[1], dim: y.shape[2], frameHz };
    y.dispose(); // the data stays valid: dataSync gave a copy (wasm) or the backend's own array, now ours (cpu)
    return r;
  } finally {
    enc.dispose();
  }
}
