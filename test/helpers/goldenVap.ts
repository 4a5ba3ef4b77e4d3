import * as path from 'node:path';
import { loadCase } from '../../src/parity/goldenCase';

export const GOLDEN_VAP = path.join(__dirname, '..', 'fixtures', 'golden-vap');
export const goldenVapPath = (...p: string[]) => path.join(GOLDEN_VAP, ...p);
export const goldenVapCase = (name: string) => loadCase(goldenVapPath('cases', `${name}.safetensors`));
export const goldenVapIndex = (): Record<string, { kind: string; tensors: Record<string, number[]> }> => require(goldenVapPath('index.json'));
