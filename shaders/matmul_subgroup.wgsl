// Batched matmul C[b] = alpha · A[b]·B[b] (f32) for CPU adapters with subgroups (lavapipe), read
// through the same Params and arbitrary strides as matmul.wgsl (transposed views need no copy).
//
// Why: llvmpipe runs a subgroup as the SIMD lanes of one CPU thread and loads every storage float
// lane by lane (a bounds-checked scalar load per lane), while register shuffles are one vector
// instruction for all lanes; so the time follows floats loaded per FMA. A subgroup of S lanes shares
// a block of TM rows of C; lane l owns the 4 adjacent columns col0 + 4l .. 4l+3 (one vec4
// accumulator per row). Per slab of S k steps, lane l loads A[row_i, k0 + l] for the TM rows, and
// k step kk takes row i's value from lane kk by subgroupBroadcast; B's 4 values per k step are one
// vec4 load where B's rows allow (B_VEC4). Per k step a lane loads TM/S floats of A and 4 of B for
// 4·TM FMAs (TM = 12, S = 8: 5.5 per 48, against 16 per 64 in the 8×8 register kernel; TM is
// ops/matmul-variant.ts subgroupRows(): 12 measured fastest on the Intel Xeon, more rows spill;
// 8 for products under 128 rows; 16 where B comes from a texture, whose fetch costs less than the
// storage vec4's four per-lane loads). The lane of subgroupBroadcast must be a
// const-expression, so the slab and the row loops inside it are unrolled by launch.ts
// `specialize()` (//#unroll; constant indices also keep the private arrays in registers). The K % S
// tail steps load A directly.
//
// Subgroups: ops/matmul.ts takes S = the adapter's smallest subgroup size, so a row of S
// invocations (local x) fills lanes 0..S-1 of one subgroup; WGY > 1 stacks rows of subgroups only
// where every subgroup has exactly S lanes.

enable subgroups;

//#include matmul_params.wgsl
// With B_VEC4 a lane loads its 4 columns of a k row as one vec4, `b_vec4()`, from binding 4: B again
// as vec4s (matmul_b4_buffer.wgsl), or B staged in a texture (matmul_b4_texture.wgsl, a read-only
// storage texture where the device allows: RO_TEX), which llvmpipe loads for all lanes at once where
// a storage vec4 is four per-lane loads.
//#include matmul_b4.wgsl
override B_VEC4: bool = false;
// A_TEX 1 (with B from a texture, S = 8): the slab's A values from A staged in a texture as B is, a
// lane fetching TM/4 texels per slab (lane l: texel k0/4 + l % 2 of rows l/2, l/2 + 4, ...), where
// the buffer path loads TM floats lane by lane; the value of row i at k step kk is then component
// kk % 4 of lane (i % 4)·2 + kk/4's texel i/4. Dense products, TRI 1 and TRI 2 (whose slabs start
// at 0: multiples of 4, as the texels are; TRI 3's first k is the workgroup's diagonal). TA = TM / 4.
// Binding 6 and `a_texel()` are declared by matmul_b4_texture.wgsl.
const A_TEX: u32 = 0u;
const TA: u32 = 1u;
// With BIAS, C[b][i][j] = alpha·(A·B)[i][j] + Bias[bias_off + j]: a linear layer's bias added as the
// product is stored (`linear` in ops/matmul.ts), saving a pass that reads and writes C again. Without it binding
// 5 is a stand-in that is never read.
@group(0) @binding(5) var<storage, read> Bias: array<f32>;
override BIAS: bool = false;
// ACT 1: C = gelu(alpha·A·B + Bias), a linear layer and its GELU in one pass where no gradient is
// needed (sampling); 0: none.
override ACT: u32 = 0u;
//#include gelu.wgsl

// Size private arrays and the unrolled slab, so they are `const` (launch.ts `specialize()`).
const TM: u32 = 12u;  // rows of C per subgroup (subgroupRows())
const S: u32 = 8u;    // lanes per workgroup = k steps per slab (≤ the subgroup size)

override WGY: u32 = 1u;   // subgroups per workgroup, stacked along M (only where every subgroup has S lanes)

// Triangular products (causal attention that stores its scores), with o = p.tri_off (Tk − Tq):
//   TRI 1: C[i][j] only for j ≤ i + o, nothing written past it; blocks wholly past the diagonal return
//          at once (the scores q·kᵀ and dP = dO·vᵀ, read by causal softmax rows that stop there);
//   TRI 2: A[i][k] is taken as 0 for k > i + o, so the k loop ends there (P·v, dS·k);
//   TRI 3: A[i][k] is taken as 0 for k < i − o, so the k loop starts there (Pᵀ·dO, dSᵀ·q: A a transposed lower one).
// Within a block's k bounds, TRI 2 and 3 read A past its diagonal as 0 whatever it holds (a_live):
// causal attention writes nothing there in P and dS (causalSoftmax's `deadUnwritten`), which saves
// the stores of half of each T×T matrix (side by side, AMD EPYC, B1 H4 T1024 d64 causal fwd+bwd:
// 147 → 134 ms); the select is one vector instruction per row and slab.
// The bounds are taken per workgroup (its WGY·TM rows, its 4·S columns): uniform, as the loop around
// subgroupBroadcast must be.
override TRI: u32 = 0u;

// Whether A[i][k] lies on the live side of a triangular product's diagonal (TRI 2, 3; always otherwise).
fn a_live(i: u32, k: u32) -> bool {
  if (TRI == 2u) { return k <= i + p.tri_off; }
  if (TRI == 3u) { return k + p.tri_off >= i; }
  return true;
}

// Workgroups run row blocks fastest (x), so the ones a CPU thread runs in turn share their columns
// of B (K×4S floats, kept in its caches) and stream A.
@compute @workgroup_size(S, WGY, 1)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>,
        @builtin(subgroup_invocation_id) lane: u32) {
  let b = wid.z;
  let row0 = (wid.x * WGY + lid.y) * TM;
  let col0 = wid.y * (4u * S) + 4u * lane;
  let abase = p.a_off + a_item(b);
  let bbase = p.b_off + b_item(b);
  // Edge rows/columns are clamped to the last valid one: loads stay in bounds, results are not stored.
  var ar: array<u32, TM>;
  for (var i = 0u; i < TM; i++) { ar[i] = abase + min(row0 + i, p.M - 1u) * p.a_rs; }
  let bc = bbase + vec4<u32>(min(vec4<u32>(col0) + vec4<u32>(0u, 1u, 2u, 3u), vec4<u32>(p.N - 1u))) * p.b_cs;
  // B_VEC4: the lane's vec4 in k row 0. B's rows hold N rounded up to 4 (ops/matmul.ts pads where N
  // is not a multiple of 4): a lane past them reads the last vec4 (its results are not stored).
  let x4 = min(col0, ((p.N + 3u) & ~3u) - 4u) / 4u;
  let bc4 = bbase / 4u + x4;
  var acc: array<vec4<f32>, TM>;
  for (var i = 0u; i < TM; i++) { acc[i] = vec4<f32>(0.0); }

  var kLo = 0u;
  var kHi = p.K;
  let wrow0 = wid.x * WGY * TM;                 // the workgroup's first row
  let rowEnd = wrow0 + WGY * TM + p.tri_off;    // one past its last row's last k (TRI 1, 2)
  if (TRI == 1u && wid.y * (4u * S) >= rowEnd) { return; }
  if (TRI == 2u) { kHi = min(p.K, rowEnd); }
  if (TRI == 3u) { kLo = min(p.K, select(0u, wrow0 - p.tri_off, wrow0 > p.tri_off)); }
  let kFull = kLo + (kHi - kLo) - (kHi - kLo) % S;
  // The slabs that cross the workgroup's diagonal (TRI 2: k0 + S − 1 past its first row's last k;
  // TRI 3: k0 before its last row's first k) take A past the diagonal as 0; the others, all live,
  // skip the selects (uniform per slab; side by side, AMD EPYC: the kFrom product 16.3 → 14.2 ms).
  let liveHi = wrow0 + p.tri_off;                         // TRI 2: every row's k ≤ this is live
  let liveLo = wrow0 + WGY * TM - 1u;                     // TRI 3: every row's k + tri_off ≥ this is live
  for (var k0 = kLo; k0 < kFull; k0 += S) {
    let masked = (TRI == 2u && k0 + S - 1u > liveHi) || (TRI == 3u && k0 + p.tri_off < liveLo);
//#if A_TEX
    var at: array<vec4<f32>, TA>;
    let ax = k0 / 4u + lane % 2u;
    let alayer = min(b, textureNumLayers(AT) - 1u);
    //#unroll F TA
    at[F] = a_texel(ax, min(row0 + lane / 2u + 4u * F, p.M - 1u), alayer);
    //#end F
    if (masked) {
      // texel F of this lane: row row0 + lane/2 + 4F, k steps 4·ax .. 4·ax + 3
      //#unroll F TA
      {
        let ai = row0 + lane / 2u + 4u * F;
        let kb = 4u * ax;
        at[F] = select(vec4<f32>(0.0), at[F], vec4<bool>(a_live(ai, kb), a_live(ai, kb + 1u), a_live(ai, kb + 2u), a_live(ai, kb + 3u)));
      }
      //#end F
    }
//#else A_TEX
    var av: array<f32, TM>;
    let ak = (k0 + lane) * p.a_cs;
    //#unroll I TM
    av[I] = A[ar[I] + ak];
    //#end I
    if (masked) {
      //#unroll I TM
      av[I] = select(0.0, av[I], a_live(row0 + I, k0 + lane));
      //#end I
    }
//#endif A_TEX
    // The slab's S vec4s of B first, then row by row its S k steps: a row's accumulator is loaded and
    // stored once per slab. The accumulators of TM rows outgrow the CPU's vector registers (each
    // vec4 of a lane is 4 of them), so llvmpipe keeps them on the stack: k step by k step over all
    // rows (the former order) loaded and stored every one of them per k step, and those stores, not
    // the FMAs, set the pace (1024³ 22.7 → 30.2 GFLOP/s side by side). The B values of the slab
    // spill too, but are only read. Each row still sums its k steps in order (bitwise the same).
    var bvs: array<vec4<f32>, S>;
    //#unroll KK S
    if (B_VEC4) {
      bvs[KK] = b_vec4(bc4, x4, b, k0 + KK);
    } else {
      let bk = (k0 + KK) * p.b_rs;
      bvs[KK] = vec4<f32>(B[bc.x + bk], B[bc.y + bk], B[bc.z + bk], B[bc.w + bk]);
    }
    //#end KK
    //#unroll I TM
    {
      var a = acc[I];
      //#unroll KK S
//#if A_TEX
      a = fma(vec4<f32>(subgroupBroadcast(at[I / 4u][KK % 4u], (I % 4u) * 2u + KK / 4u)), bvs[KK], a);
//#else A_TEX
      a = fma(vec4<f32>(subgroupBroadcast(av[I], KK)), bvs[KK], a);
//#endif A_TEX
      //#end KK
      acc[I] = a;
    }
    //#end I
  }
  for (var k = kFull; k < kHi; k++) {
    var bv: vec4<f32>;
    if (B_VEC4) {
      bv = b_vec4(bc4, x4, b, k);
    } else {
      let bk = k * p.b_rs;
      bv = vec4<f32>(B[bc.x + bk], B[bc.y + bk], B[bc.z + bk], B[bc.w + bk]);
    }
    let ak = k * p.a_cs;
    for (var i = 0u; i < TM; i++) { acc[i] = fma(vec4<f32>(select(0.0, A[ar[i] + ak], a_live(row0 + i, k))), bv, acc[i]); }
  }

  let cbase = p.c_off + b * p.c_bs;
  var bias = vec4<f32>(0.0);
  if (BIAS) {
    for (var c = 0u; c < 4u; c++) { bias[c] = Bias[p.bias_off + min(col0 + c, p.N - 1u)]; }
  }
  for (var i = 0u; i < TM; i++) {
    let r = row0 + i;
    if (r >= p.M) { break; }
    var v = p.alpha * acc[i] + bias;
    if (ACT == 1u) { v = vec4<f32>(gelu(v.x), gelu(v.y), gelu(v.z), gelu(v.w)); }
    for (var c = 0u; c < 4u; c++) {
      if (col0 + c < p.N && (TRI != 1u || col0 + c <= r + p.tri_off)) { C[cbase + r * p.N + col0 + c] = v[c]; }
    }
  }
}
