/**
 * The two interfaces every encoder of this library implements (EncoderCPC / CpcStream, EncoderMimi / MimiStream),
 * and what the realtime driver (realtimeLoop.ts), EncoderSession, the CLI, the parity runners and the bench use.
 * Nothing outside an encoder's own files needs to know which encoder it holds.
 *
 *   16 kHz audio -> RealtimeLoop (buffer: leading zeros, call windows of `window` samples every `shift`)
 *               -> EncoderStream.step(window) -> frames [B, N, dim]      (finalize() at the end of the stream)
 */
import type * as tf from '@tensorflow/tfjs-core';

/** Input of an encoder: 16 kHz samples as a Float32Array [T], or a float32 tensor [T], [B, T] or [B, 1, T]. */
export type WaveInput = Float32Array | tf.Tensor;

/**
 * How MaAI's realtime loop calls an encoder, in 16 kHz samples: every call gets `window` samples, the last
 * `window - shift` of which the next call sees again; the stream starts with `leadingZeros` zeros
 * (MaAI: window = 320 + round(16000 / call rate), shift = round(16000 / call rate), leadingZeros = 320).
 */
export interface CallWindow {
  /** Samples per call (context + new samples). */
  window: number;
  /** New samples per call. */
  shift: number;
  /** Samples of the previous call repeated at the start of each window (window - shift). */
  context: number;
  /** Zeros in front of the signal (MaAI: the same as context). */
  leadingZeros: number;
  /** Average rate of the frames the stream emits with this window (frames per second). */
  frameHz: number;
}

/** What to ask of `AudioEncoder.callWindow`. */
export interface CallWindowOptions {
  /**
   * Encoder calls per second. CPC: default 10 (window 1920, shift 1600). Mimi: default its frame_hz (one Mimi
   * frame per call); frame_hz / N calls N frames at once (MaAI's frames_per_call).
   */
  callHz?: number;
  /** Samples of overlap (320). Mimi's is fixed at load (contextSamples); a different value is an error. */
  context?: number;
}

/** An audio encoder: offline `forward`, and `stream()` for MaAI's streaming path. */
export interface AudioEncoder {
  /** Which encoder ('cpc' | 'mimi'), for logs and state tags. */
  readonly kind: string;
  /** Sample rate of the input (16000). */
  readonly inputSampleRate: number;
  /** Channels per frame. */
  readonly dim: number;
  /** Frames per second of `forward`'s output. */
  readonly frameHz: number;
  /** Offline: the whole signal from a fresh state -> [B, frames, dim] (the caller disposes it). */
  forward(wave: WaveInput): tf.Tensor3D;
  /** The realtime loop's geometry for this encoder (Python rounding: round half to even). */
  callWindow(opts?: CallWindowOptions): CallWindow;
  /** A fresh streaming state. `batch` rows per call (CPC takes the batch from each window). */
  stream(opts?: { batch?: number }): EncoderStream;
  dispose(): void;
}

/** A stream's state as plain data (structuredClone-able), tagged with the encoder it belongs to. */
export interface EncoderStreamState {
  readonly encoder: string;
}

/**
 * One stream through an encoder, its state held explicitly. A step that throws changes nothing: the stream
 * continues as if the call had not been made.
 */
export interface EncoderStream {
  /** Calls made since the start (or the last reset). */
  readonly calls: number;
  /** One call of the realtime loop: a window of `CallWindow.window` samples -> [B, N, dim] (N may be 0). */
  step(window: WaveInput): tf.Tensor3D;
  /** End of stream: whatever the encoder still owes (MaAI's finalize_stream flush; often nothing). */
  finalize(): tf.Tensor3D;
  /** Back to the state of a fresh stream (upstream reset_streaming_state). */
  reset(): void;
  exportState(): EncoderStreamState;
  /** Continues from an exported state; a state of another encoder or shape is an error and changes nothing. */
  importState(state: EncoderStreamState): void;
  /** Frees the state's tensors. */
  dispose(): void;
}
