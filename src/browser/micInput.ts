/**
 * The microphone as 16 kHz mono chunks: getUserMedia -> an AudioWorklet (mic-worklet.js, beside the bundle) that
 * mixes down and resamples -> `onChunk(Float32Array)` on the main thread. Errors say what the user can do.
 */
export class MicrophoneError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'MicrophoneError';
  }
}

export interface MicrophoneOptions {
  /** Samples per chunk at 16 kHz (default 320 = 20 ms). */
  chunk?: number;
  /** URL of mic-worklet.js (default: beside this bundle). */
  workletUrl?: string;
}

export interface MicrophoneInput {
  /** The AudioContext's own rate (the worklet resamples it to 16 kHz). */
  readonly contextRate: number;
  stop(): Promise<void>;
}

function explain(e: unknown): MicrophoneError {
  const name = (e as { name?: string })?.name;
  if (name === 'NotAllowedError' || name === 'SecurityError') {
    return new MicrophoneError('microphone access was denied: allow it for this site in the browser (address bar, site settings) and press Start again');
  }
  if (name === 'NotFoundError' || name === 'OverconstrainedError') return new MicrophoneError('no microphone was found: connect one, or choose a WAV file');
  if (name === 'NotReadableError') return new MicrophoneError('the microphone is in use by another program or could not be opened');
  return new MicrophoneError(`microphone failed: ${(e as Error)?.message ?? String(e)}`);
}

/** Starts capturing; chunks of 16 kHz mono samples arrive at `onChunk` until `stop()`. */
export async function startMicrophone(onChunk: (samples: Float32Array) => void, opts: MicrophoneOptions = {}): Promise<MicrophoneInput> {
  const md = globalThis.navigator?.mediaDevices;
  if (!md?.getUserMedia) {
    throw new MicrophoneError('this page cannot use the microphone: it needs a secure context (https:// or http://localhost) and a browser with getUserMedia');
  }
  let media: MediaStream;
  try {
    media = await md.getUserMedia({ audio: { channelCount: 1, echoCancellation: false, noiseSuppression: false, autoGainControl: false } });
  } catch (e) {
    throw explain(e);
  }
  const ctx = new AudioContext();
  try {
    await ctx.audioWorklet.addModule(opts.workletUrl ?? new URL('./mic-worklet.js', import.meta.url).href);
    const node = new AudioWorkletNode(ctx, 'maai-mic-16k', { numberOfOutputs: 1, processorOptions: { chunk: opts.chunk ?? 320 } });
    node.port.onmessage = (ev: MessageEvent<Float32Array>) => onChunk(ev.data);
    const src = ctx.createMediaStreamSource(media);
    // The worklet is pulled only when connected to the destination: through a muted gain (no echo).
    const mute = ctx.createGain();
    mute.gain.value = 0;
    src.connect(node).connect(mute).connect(ctx.destination);
    await ctx.resume();
    return {
      contextRate: ctx.sampleRate,
      async stop() {
        node.port.onmessage = null;
        for (const t of media.getTracks()) t.stop();
        await ctx.close();
      },
    };
  } catch (e) {
    for (const t of media.getTracks()) t.stop();
    await ctx.close().catch(() => undefined);
    throw e instanceof MicrophoneError ? e : new MicrophoneError(`audio processing failed to start: ${(e as Error).message}`);
  }
}
