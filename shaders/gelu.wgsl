// GELU, tanh form: 0.5·v·(1 + tanh(√(2/π)·(v + 0.044715·v³))), the tanh argument clamped so that
// it stays finite. Included by unary.wgsl (OP 8, `gelu()`) and matmul_subgroup.wgsl (ACT 1: a linear
// layer's GELU applied as the product is stored, where no gradient is needed), so both give the
// same bits (unary_grad.wgsl holds its derivative).
const SQRT_2_OVER_PI: f32 = 0.7978845608028654;

fn gelu(v: f32) -> f32 {
  let u = SQRT_2_OVER_PI * (v + 0.044715 * v * v * v);
  return 0.5 * v * (1.0 + tanh(clamp(u, -15.0, 15.0)));
}
