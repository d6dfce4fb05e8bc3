// A norm's per-channel affine map, (w[ch], b[ch]) with 1 and 0 where the op has no weight or bias
// (HAS_W, HAS_B): loaded once per channel by the kernels that walk a row channel by channel.
// Included by norm.wgsl, norm_grad.wgsl and norm_param_grad.wgsl (ops/norm.ts), which declare
// w, b, HAS_W and HAS_B.
fn channel_affine(ch: u32) -> vec2<f32> {
  var wb = vec2<f32>(1.0, 0.0);
  if (HAS_W) { wb.x = w[ch]; }
  if (HAS_B) { wb.y = b[ch]; }
  return wb;
}
