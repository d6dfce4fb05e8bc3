// Shared by unary.wgsl and binary.wgsl (pasted by `withStridedWalk`, ops/launch.ts): the offsets of
// element `i` of a row-major walk over dimensions [0, rank) of `shape` in two strided operands,
// from their base offsets o0 and o1: the index decomposed by div/mod per dimension. (rank ≤ 8;
// `main` walks every dimension per element, `main_rows` the outer ones once per innermost row.)
fn dim(v: array<vec4<u32>, 2>, i: u32) -> u32 { return v[i / 4u][i % 4u]; }

fn walk(i: u32, rank: u32, shape: array<vec4<u32>, 2>, s0: array<vec4<u32>, 2>, s1: array<vec4<u32>, 2>, o0: u32, o1: u32) -> vec2<u32> {
  var rem = i;
  var a = o0;
  var b = o1;
  for (var d = i32(rank) - 1; d >= 0; d--) {
    let k = u32(d);
    let size = dim(shape, k);
    let c = rem % size;
    rem = rem / size;
    a += c * dim(s0, k);
    b += c * dim(s1, k);
  }
  return vec2(a, b);
}
