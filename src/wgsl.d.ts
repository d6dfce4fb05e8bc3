// WGSL files are imported as text by esbuild (loader "text") and by vitest (plugin in vitest.config.ts).
declare module '*.wgsl' {
  const source: string;
  export default source;
}
