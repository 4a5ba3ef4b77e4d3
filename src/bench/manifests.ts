/** Full-size detweights manifests (copies of the golden ones) so the bench needs no fixture files. */
import { Manifest, parseManifest } from '../weights/detweights';
import mimiFull from './data/mimi_full_manifest.json';
import cpcLstm from './data/cpc_lstm_manifest.json';

export function fullManifests(): { mimi: Manifest; cpc: Manifest } {
  return { mimi: parseManifest(mimiFull, 'mimi_full_manifest'), cpc: parseManifest(cpcLstm, 'cpc_lstm_manifest') };
}
