// The Train view's failure sentences (examples/web/train/failure.ts): an out-of-memory error of the
// GPU reads as one plain sentence naming what failed; every other error keeps its own message.

import { describe, expect, it } from 'vitest';
import { failureMessage } from '../examples/web/train/failure.js';

describe('failureMessage', () => {
  it('says plainly that the GPU has too little memory, keeping the first line of the cause', () => {
    const e = new Error("WebGPU error: GPUOutOfMemoryError in op 'conv2d_window_vec4': Out of memory allocating a buffer of 268435456 bytes.\nmore detail");
    const m = failureMessage(e);
    expect(m).toBe("The GPU has too little memory for this model (GPUOutOfMemoryError in op 'conv2d_window_vec4': Out of memory allocating a buffer of 268435456 bytes.); close other tabs that use the GPU, or train it with the CLI.");
    expect(failureMessage('device: out of memory')).toMatch(/^The GPU has too little memory for this model \(device: out of memory\)/);
  });

  it('keeps any other message as it is', () => {
    expect(failureMessage(new Error('There is no saved run in this browser to continue.'))).toBe('There is no saved run in this browser to continue.');
    expect(failureMessage(42)).toBe('42');
  });
});
