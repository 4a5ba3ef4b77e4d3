import * as path from 'node:path';
import { loadCase, loadSignal } from '../../src/parity/goldenCase';

export const GOLDEN = path.join(__dirname, '..', 'fixtures', 'golden');
export const goldenPath = (...p: string[]) => path.join(GOLDEN, ...p);
export const goldenCase = (name: string) => loadCase(goldenPath('cases', `${name}.safetensors`));
export const goldenSignal = (name: string) => loadSignal(goldenPath('signals', `${name}.safetensors`)).samples;
export const goldenIndex = (): Record<string, { kind: string }> => require(goldenPath('index.json'));
