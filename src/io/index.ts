// Serialisation: the safetensors format and GPU state dicts (browser-safe; Node file I/O is in src/node/).
export * from './safetensors.js';
export { CONFIG_KEY, configFromMetadata, fromHostTensor, loadSafetensorsInto, stateDictToSafetensors, toHostTensors, type LoadOptions } from './state.js';
