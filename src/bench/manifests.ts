/** Full-size detweights manifests (copies of the golden ones) so the bench needs no fixture files. */
import { Manifest, parseManifest } from '../weights/detweights';
import mimiFull from './data/mimi_full_manifest.json';
import cpcLstm from './data/cpc_lstm_manifest.json';
import vapCpc from './data/vap_cpc_manifest.json';

export function fullManifests(): { mimi: Manifest; cpc: Manifest } {
  return { mimi: parseManifest(mimiFull, 'mimi_full_manifest'), cpc: parseManifest(cpcLstm, 'cpc_lstm_manifest') };
}

/**
 * Full-size VAP models: the golden CPC VAP manifest (with its kernel-10 downsample), and the same VAP tensors with
 * a full Mimi adapter, decrease_dimension 512 -> 256 (scales chosen like the golden ones, for 512 inputs).
 */
export function vapManifests(): { cpc: Manifest; mimi: Manifest } {
  const cpc = parseManifest(vapCpc, 'vap_cpc_manifest');
  const mimi: Manifest = {};
  for (const [k, v] of Object.entries(cpc)) if (!k.startsWith('encoder.')) mimi[k] = v;
  mimi['decrease_dimension.weight'] = { shape: [256, 512], scale: 0.0625, offset: 0 };
  mimi['decrease_dimension.bias'] = { shape: [256], scale: 0.0625, offset: 0 };
  return { cpc, mimi };
}
