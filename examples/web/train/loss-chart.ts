// The loss curve: [step, loss] points on a <canvas>, the loss on a log scale (it falls by orders
// of magnitude early, then slowly), redrawn whole on each new point (a few hundred points: well
// under a millisecond).

export function drawLossChart(canvas: HTMLCanvasElement, points: [number, number][]): void {
  const ctx = canvas.getContext('2d')!;
  const W = canvas.width, H = canvas.height, L = 48, R = 8, T = 8, B = 22;
  ctx.clearRect(0, 0, W, H);
  ctx.fillStyle = '#fff';
  ctx.fillRect(0, 0, W, H);
  ctx.font = '11px system-ui, sans-serif';
  ctx.fillStyle = '#666';
  const good = points.filter(([, y]) => y > 0 && Number.isFinite(y));
  if (good.length < 1) {
    ctx.fillText('the loss appears here once training starts', L, H / 2);
    return;
  }
  const x0 = good[0][0], x1 = Math.max(good[good.length - 1][0], x0 + 1);
  let lo = Math.log10(Math.min(...good.map((p) => p[1]))), hi = Math.log10(Math.max(...good.map((p) => p[1])));
  if (hi - lo < 0.1) [lo, hi] = [lo - 0.05, hi + 0.05];
  const px = (s: number) => L + ((s - x0) / (x1 - x0)) * (W - L - R);
  const py = (v: number) => T + ((hi - Math.log10(v)) / (hi - lo)) * (H - T - B);
  // Grid lines at 1, 2 and 5 × powers of ten inside the range.
  ctx.strokeStyle = '#eee';
  ctx.textAlign = 'right';
  for (let e = Math.floor(lo); e <= Math.ceil(hi); e++) {
    for (const m of [1, 2, 5]) {
      const v = m * 10 ** e;
      if (Math.log10(v) < lo || Math.log10(v) > hi) continue;
      ctx.beginPath();
      ctx.moveTo(L, py(v));
      ctx.lineTo(W - R, py(v));
      ctx.stroke();
      ctx.fillText(v.toPrecision(1), L - 4, py(v) + 4);
    }
  }
  ctx.textAlign = 'left';
  ctx.fillText(`step ${x0}`, L, H - 6);
  ctx.textAlign = 'right';
  ctx.fillText(`step ${good[good.length - 1][0]}`, W - R, H - 6);
  ctx.strokeStyle = '#c2410c';
  ctx.lineWidth = 1.5;
  ctx.beginPath();
  good.forEach(([s, v], i) => (i ? ctx.lineTo(px(s), py(v)) : ctx.moveTo(px(s), py(v))));
  ctx.stroke();
}
