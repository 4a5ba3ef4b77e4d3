/**
 * True for a Float32Array from any realm: a state copied with structuredClone or postMessage into another context
 * (a jest sandbox, an iframe, a vm context) is a Float32Array whose constructor is not this realm's, so
 * `instanceof Float32Array` would refuse it.
 */
export function isFloat32Array(x: unknown): x is Float32Array {
  return ArrayBuffer.isView(x) && Object.prototype.toString.call(x) === '[object Float32Array]';
}
