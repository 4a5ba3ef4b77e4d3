/**
 * `maai-encoder-tfjs/parity`: the golden-case harness (load a case, run it as its meta says, compare) and the
 * benchmarks (bench suite, long-stream reliability run), as the `maai-encoder parity` and `bench` commands use them.
 */
export * from '../parity/compare';
export * from '../parity/goldenCase';
export * from '../parity/runCase';
export * from '../parity/mimiRunners';
export * from '../bench/stats';
export type { BenchOptions } from '../bench/bench';
export { benchSignal, runBench } from '../bench/bench';
export * from '../bench/longStream';
