/**
 * An SVG picture of a VAP run, read at a glance: both waveforms (min/max envelope), then p_now, p_future (dashed)
 * and each channel's voice activity probability, speaker 1 in blue and speaker 2 in orange, on one time axis.
 */
export interface VapPlotData {
  sampleRate: number;
  waves: [Float32Array, Float32Array];
  /** Frame times in seconds and per-frame [ch1, ch2] values. */
  times: number[];
  pNow: Array<[number, number]>;
  pFuture: Array<[number, number]>;
  vad: Array<[number, number]>;
  title?: string;
}

const W = 1000;
const LEFT = 90;
const RIGHT = 20;
const COLORS = ['#1f77b4', '#ff7f0e'];

function esc(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

export function vapPlotSvg(d: VapPlotData): string {
  const dur = Math.max(d.waves[0].length, d.waves[1].length) / d.sampleRate || 1;
  const plotW = W - LEFT - RIGHT;
  const x = (t: number) => LEFT + (t / dur) * plotW;
  const panels: string[] = [];
  let y0 = 40;
  const panel = (label: string, h: number, body: (top: number, h: number) => string, grid = true) => {
    const frame = `<rect x="${LEFT}" y="${y0}" width="${plotW}" height="${h}" fill="#fafafa" stroke="#999"/>`;
    const lines = grid ? [0.5].map((g) => `<line x1="${LEFT}" x2="${LEFT + plotW}" y1="${y0 + h * (1 - g)}" y2="${y0 + h * (1 - g)}" stroke="#ddd" stroke-dasharray="4 3"/>`).join('') : '';
    const text = `<text x="${LEFT - 8}" y="${y0 + h / 2 + 4}" text-anchor="end" font-size="12">${esc(label)}</text>`;
    panels.push(frame + lines + body(y0, h) + text);
    y0 += h + 14;
  };
  const wave = (w: Float32Array, color: string) => (top: number, h: number) => {
    const cols = plotW;
    const per = Math.max(1, w.length / cols);
    let peak = 1e-9;
    for (const v of w) peak = Math.max(peak, Math.abs(v));
    const pts: string[] = [];
    for (let c = 0; c < cols; c++) {
      let lo = 0;
      let hi = 0;
      for (let i = Math.floor(c * per); i < Math.min(w.length, Math.floor((c + 1) * per)); i++) {
        lo = Math.min(lo, w[i]);
        hi = Math.max(hi, w[i]);
      }
      const px = LEFT + c + 0.5;
      pts.push(`M${px.toFixed(1)} ${(top + h / 2 - (hi / peak) * (h / 2)).toFixed(1)}V${(top + h / 2 - (lo / peak) * (h / 2) + 0.5).toFixed(1)}`);
    }
    return `<path d="${pts.join('')}" stroke="${color}" stroke-width="1" fill="none"/>`;
  };
  const curve = (vals: number[], color: string, dash = '') => (top: number, h: number) => {
    const pts = vals.map((v, i) => `${i ? 'L' : 'M'}${x(d.times[i]).toFixed(1)} ${(top + h * (1 - Math.min(1, Math.max(0, v)))).toFixed(1)}`).join('');
    return `<path d="${pts}" stroke="${color}" stroke-width="1.8" fill="none"${dash ? ` stroke-dasharray="${dash}"` : ''}/>`;
  };
  const both = (...fs: Array<(top: number, h: number) => string>) => (top: number, h: number) => fs.map((f) => f(top, h)).join('');

  panel('channel 1', 70, wave(d.waves[0], COLORS[0]), false);
  panel('channel 2', 70, wave(d.waves[1], COLORS[1]), false);
  panel('p_now', 90, both(curve(d.pNow.map((p) => p[0]), COLORS[0]), curve(d.pNow.map((p) => p[1]), COLORS[1])));
  panel('p_future', 90, both(curve(d.pFuture.map((p) => p[0]), COLORS[0], '6 3'), curve(d.pFuture.map((p) => p[1]), COLORS[1], '6 3')));
  panel('vad', 90, both(curve(d.vad.map((p) => p[0]), COLORS[0]), curve(d.vad.map((p) => p[1]), COLORS[1])));

  const ticks: string[] = [];
  const step = dur > 30 ? 5 : dur > 10 ? 2 : 1;
  for (let t = 0; t <= dur + 1e-9; t += step) {
    ticks.push(`<line x1="${x(t)}" x2="${x(t)}" y1="40" y2="${y0 - 14}" stroke="#eee"/><text x="${x(t)}" y="${y0 + 4}" text-anchor="middle" font-size="11">${t}s</text>`);
  }
  const legend =
    `<text x="${LEFT}" y="24" font-size="15" font-weight="bold">${esc(d.title ?? 'VAP turn-taking')}</text>` +
    `<text x="${LEFT + plotW}" y="24" text-anchor="end" font-size="12"><tspan fill="${COLORS[0]}">━ speaker 1</tspan>  <tspan fill="${COLORS[1]}">━ speaker 2</tspan>  (0..1; dashed line 0.5)</text>`;
  const H = y0 + 20;
  return (
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif">` +
    `<rect width="${W}" height="${H}" fill="white"/>${legend}${ticks.join('')}${panels.join('')}</svg>\n`
  );
}
