import { UsageError } from '../args';
import type { EncodedFeatures } from './encode';

export async function encodeMimi(_w: string, _wave: Float32Array, _stream: boolean, _hz: number, _p: (a: number, b: number) => void): Promise<EncodedFeatures> {
  throw new UsageError('the Mimi encoder is not available yet');
}
