/**
 * A scrolling heat-map of feature frames on a canvas: one column per frame (newest on the right), one row band per
 * feature channel (channel 0 at the top). Each channel is shown relative to its running mean (features have large
 * per-channel offsets that would otherwise paint stripes), divided by a slowly decaying maximum of |x - mean|.
 */
const STOPS: Array<[number, number, number]> = [
  [68, 1, 84],
  [59, 82, 139],
  [33, 145, 140],
  [94, 201, 98],
  [253, 231, 37],
];

/** Viridis-like colour for t in [0, 1]. */
function colour(t: number): [number, number, number] {
  const x = Math.min(1, Math.max(0, t)) * (STOPS.length - 1);
  const i = Math.min(STOPS.length - 2, Math.floor(x));
  const f = x - i;
  const a = STOPS[i];
  const b = STOPS[i + 1];
  return [a[0] + (b[0] - a[0]) * f, a[1] + (b[1] - a[1]) * f, a[2] + (b[2] - a[2]) * f];
}

export class FeatureHeatmap {
  private readonly ctx: CanvasRenderingContext2D;
  private scale = 0;
  private mean: Float32Array | null = null;
  /** Frames drawn so far. */
  frames = 0;

  constructor(readonly canvas: HTMLCanvasElement, readonly columnWidth = 2) {
    const ctx = canvas.getContext('2d');
    if (!ctx) throw new Error('FeatureHeatmap: no 2D canvas context');
    this.ctx = ctx;
    this.clear();
  }

  clear(): void {
    this.ctx.fillStyle = '#111';
    this.ctx.fillRect(0, 0, this.canvas.width, this.canvas.height);
    this.frames = 0;
    this.scale = 0;
    this.mean = null;
  }

  /** Draws `frames` rows of `dim` values (row-major [frames, dim]). */
  push(data: Float32Array, frames: number, dim: number): void {
    if (frames === 0) return;
    const { canvas, ctx, columnWidth: w } = this;
    const H = canvas.height;
    if (!this.mean || this.mean.length !== dim) this.mean = data.slice(0, dim);
    const mean = this.mean;
    const dev = new Float32Array(frames * dim);
    let m = 0;
    for (let f = 0; f < frames; f++) {
      for (let c = 0; c < dim; c++) {
        const x = data[f * dim + c];
        mean[c] += 0.02 * (x - mean[c]);
        dev[f * dim + c] = x - mean[c];
        m = Math.max(m, Math.abs(dev[f * dim + c]));
      }
    }
    this.scale = Math.max(m, this.scale * 0.98, 1e-6);
    const shift = Math.min(canvas.width, frames * w);
    ctx.drawImage(canvas, shift, 0, canvas.width - shift, H, 0, 0, canvas.width - shift, H);
    const img = ctx.createImageData(frames * w, H);
    for (let f = 0; f < frames; f++) {
      for (let y = 0; y < H; y++) {
        const c = Math.min(dim - 1, Math.floor((y * dim) / H));
        const [r, g, b] = colour(0.5 + dev[f * dim + c] / (2 * this.scale));
        for (let k = 0; k < w; k++) {
          const o = (y * frames * w + f * w + k) * 4;
          img.data[o] = r;
          img.data[o + 1] = g;
          img.data[o + 2] = b;
          img.data[o + 3] = 255;
        }
      }
    }
    ctx.putImageData(img, canvas.width - frames * w, 0);
    this.frames += frames;
  }
}
