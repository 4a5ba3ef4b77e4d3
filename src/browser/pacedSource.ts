/**
 * Plays 16 kHz samples into `onChunk` at real-time pace (by the wall clock, in chunks of `chunk` samples), as a
 * microphone would deliver them. Resolves `done` after the last chunk or `stop()`.
 */
export interface PacedSource {
  stop(): void;
  readonly done: Promise<void>;
}

export function playPaced(samples: Float32Array, onChunk: (chunk: Float32Array) => void, chunk = 320): PacedSource {
  let pushed = 0;
  let timer: ReturnType<typeof setInterval> | undefined;
  let finish!: () => void;
  const done = new Promise<void>((r) => (finish = r));
  const t0 = performance.now();
  const stop = () => {
    if (timer !== undefined) clearInterval(timer);
    timer = undefined;
    finish();
  };
  timer = setInterval(() => {
    const due = Math.min(samples.length, Math.floor(((performance.now() - t0) / 1000) * 16000));
    while (pushed + chunk <= due || (due === samples.length && pushed < due)) {
      const end = Math.min(pushed + chunk, samples.length);
      onChunk(samples.slice(pushed, end));
      pushed = end;
    }
    if (pushed >= samples.length) stop();
  }, (chunk / 16000) * 1000);
  return { stop, done };
}
