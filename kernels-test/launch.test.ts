// launch.ts's template step: `specialize()` rewrites const declarations and expands (nested)
// //#unroll blocks; pure string transforms, no device.

import { describe, expect, it } from 'vitest';
import { kernel, specialize } from '../src/ops/launch.js';

describe('specialize', () => {
  it('rewrites consts and unrolls nested blocks by a number or a specialised const', () => {
    const src = ['const S: u32 = 8u;', '//#unroll I S', 'a(I);', '  //#unroll J 2', '  b(I, J, IJ);', '  //#end J', '//#end I', 'c();', ''].join('\n');
    const k = specialize(kernel('t', src), { S: 3 });
    expect(k.code).toBe(
      ['const S: u32 = 3u;', 'a(0u);', '  b(0u, 0u, IJ);', '  b(0u, 1u, IJ);', 'a(1u);', '  b(1u, 0u, IJ);', '  b(1u, 1u, IJ);', 'a(2u);', '  b(2u, 0u, IJ);', '  b(2u, 1u, IJ);', 'c();', ''].join('\n'),
    );
    expect(k.name).toBe('t{"S":3}');
  });
  it('keeps one part of an #if block by a specialised const, before unrolling', () => {
    const src = ['const T: u32 = 0u;', '//#if T', '//#unroll I 2', 'a(I);', '//#end I', '//#else T', 'b();', '//#endif T', 'c();', ''].join('\n');
    expect(specialize(kernel('t', src), { T: 1 }).code).toBe(['const T: u32 = 1u;', 'a(0u);', 'a(1u);', 'c();', ''].join('\n'));
    expect(specialize(kernel('t', src), { T: 0 }).code).toBe(['const T: u32 = 0u;', 'b();', 'c();', ''].join('\n'));
    const noElse = ['const T: u32 = 0u;', '//#if T', 'a();', '//#endif T', ''].join('\n');
    expect(specialize(kernel('t', noElse), { T: 0 }).code).toBe(['const T: u32 = 0u;', ''].join('\n'));
    expect(() => specialize(kernel('t', '//#if U\na();\n//#endif U\n'), {})).toThrow(/'#if U', a const not specialised here/);
  });
  it('names an unknown const or count in its error', () => {
    expect(() => specialize(kernel('t', 'const S: u32 = 1u;\n'), { T: 2 })).toThrow(/declares no 'const T: u32'/);
    expect(() => specialize(kernel('t', '//#unroll I TM\nx(I);\n//#end I\n'), {})).toThrow(/unrolls by 'TM'/);
  });
});
