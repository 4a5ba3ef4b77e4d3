/** Parity runners for the Mimi case kinds (mimi_core, mimi_core_onnx, mimi_offline, mimi_stream). */
export function registerMimiParity(): void {
  // Filled in by the Mimi encoder.
}
