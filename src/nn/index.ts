// The nn layer's public API.
export { Module, StateDictError, matchesKey, type KeyPattern, type LoadReport } from './module.ts';
export { Linear, LayerNorm, RMSNorm, Embedding, Conv2d, ConvTranspose2d, Dropout, MLP, activate, type Activation } from './layers.ts';
export { manualSeed, uniformInit, normalInit, constantInit } from './init.ts';
// safetensors files (Node) come from './safetensors.ts'; this index stays free of Node APIs so the browser bundle can use it
export { readSafetensorsBuffer, SafetensorsError, type FloatStorageType } from './safetensors_format.ts';
export { applyLora, mergeLora, loraStateDict, loadLora, fromPeftKey, LoraLinear, type LoraConfig } from './lora.ts';
export { AdamW, clipGradNorm, type AdamWOptions } from './optim.ts';
export { cosineWithWarmup } from './schedule.ts';
