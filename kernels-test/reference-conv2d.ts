// Plain TypeScript references (float64 accumulation) for conv2d and upsampleNearest2x, NCHW,
// PyTorch semantics. Shared by kernels-test/conv2d.test.ts and bench/conv2d.ts.

export interface ConvShape {
  N: number; Cin: number; H: number; W: number;
  Cout: number; KH: number; KW: number;
  stride: number; padding: number;
}

export function convOutSize(s: ConvShape): [number, number] {
  return [Math.floor((s.H + 2 * s.padding - s.KH) / s.stride) + 1, Math.floor((s.W + 2 * s.padding - s.KW) / s.stride) + 1];
}

/** Calls f(xIndex, wIndex, yIndex) for every in-bounds product x·w that contributes to y. */
function forEachProduct(
  s: ConvShape,
  f: (xi: number, wi: number, yi: number) => void,
): void {
  const [Ho, Wo] = convOutSize(s);
  for (let n = 0; n < s.N; n++)
    for (let co = 0; co < s.Cout; co++)
      for (let oy = 0; oy < Ho; oy++)
        for (let ox = 0; ox < Wo; ox++)
          for (let ci = 0; ci < s.Cin; ci++)
            for (let ky = 0; ky < s.KH; ky++) {
              const iy = oy * s.stride - s.padding + ky;
              if (iy < 0 || iy >= s.H) continue;
              for (let kx = 0; kx < s.KW; kx++) {
                const ix = ox * s.stride - s.padding + kx;
                if (ix < 0 || ix >= s.W) continue;
                f(((n * s.Cin + ci) * s.H + iy) * s.W + ix, ((co * s.Cin + ci) * s.KH + ky) * s.KW + kx, ((n * s.Cout + co) * Ho + oy) * Wo + ox);
              }
            }
}

/** y [N, Cout, Ho, Wo] = conv(x [N, Cin, H, W], w [Cout, Cin, KH, KW]) + bias [Cout]. */
export function conv2d(x: Float32Array, w: Float32Array, bias: Float32Array | null, s: ConvShape): Float32Array {
  const [Ho, Wo] = convOutSize(s);
  const acc = new Float64Array(s.N * s.Cout * Ho * Wo);
  if (bias) for (let i = 0; i < acc.length; i++) acc[i] = bias[Math.floor(i / (Ho * Wo)) % s.Cout];
  forEachProduct(s, (xi, wi, yi) => (acc[yi] += x[xi] * w[wi]));
  return Float32Array.from(acc);
}

/** dx [N, Cin, H, W] from the output gradient g [N, Cout, Ho, Wo]. */
export function conv2dGradInput(g: Float32Array, w: Float32Array, s: ConvShape): Float32Array {
  const acc = new Float64Array(s.N * s.Cin * s.H * s.W);
  forEachProduct(s, (xi, wi, yi) => (acc[xi] += g[yi] * w[wi]));
  return Float32Array.from(acc);
}

/** dw [Cout, Cin, KH, KW] from the output gradient g and the input x. */
export function conv2dGradWeight(g: Float32Array, x: Float32Array, s: ConvShape): Float32Array {
  const acc = new Float64Array(s.Cout * s.Cin * s.KH * s.KW);
  forEachProduct(s, (xi, wi, yi) => (acc[wi] += g[yi] * x[xi]));
  return Float32Array.from(acc);
}

/** dbias [Cout]: g summed over N, Ho, Wo. */
export function conv2dGradBias(g: Float32Array, s: ConvShape): Float32Array {
  const [Ho, Wo] = convOutSize(s);
  const acc = new Float64Array(s.Cout);
  for (let i = 0; i < g.length; i++) acc[Math.floor(i / (Ho * Wo)) % s.Cout] += g[i];
  return Float32Array.from(acc);
}

/** Nearest 2× upsample: x [N, C, H, W] → [N, C, 2H, 2W]. */
export function upsampleNearest2x(x: Float32Array, N: number, C: number, H: number, W: number): Float32Array {
  const y = new Float32Array(N * C * 4 * H * W);
  for (let p = 0; p < N * C; p++)
    for (let oy = 0; oy < 2 * H; oy++)
      for (let ox = 0; ox < 2 * W; ox++) y[(p * 2 * H + oy) * 2 * W + ox] = x[(p * H + (oy >> 1)) * W + (ox >> 1)];
  return y;
}

/** Gradient of the nearest 2× upsample: sums each 2×2 block of g [N, C, 2H, 2W] → [N, C, H, W]. */
export function upsampleNearest2xGrad(g: Float32Array, N: number, C: number, H: number, W: number): Float32Array {
  const dx = new Float32Array(N * C * H * W);
  for (let p = 0; p < N * C; p++)
    for (let oy = 0; oy < 2 * H; oy++)
      for (let ox = 0; ox < 2 * W; ox++) dx[(p * H + (oy >> 1)) * W + (ox >> 1)] += g[(p * 2 * H + oy) * 2 * W + ox];
  return dx;
}
