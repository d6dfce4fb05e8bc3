// What the Train view says when a run fails: the error's own message, except where the cause has a
// plainer sentence (the GPU's memory, which WebGPU reports as a GPUOutOfMemoryError naming a buffer).

/** One sentence for the page from a training failure. */
export function failureMessage(e: unknown): string {
  const message = e instanceof Error ? e.message : String(e);
  if (/GPUOutOfMemoryError|out of memory/i.test(message)) {
    const detail = message.split('\n')[0].replace(/^WebGPU error:\s*/, '');
    return `The GPU has too little memory for this model (${detail}); close other tabs that use the GPU, or train it with the CLI.`;
  }
  return message;
}
