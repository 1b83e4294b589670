// The nn layer's public API.
export { Module, StateDictError, matchesKey, type KeyPattern, type LoadReport } from './module.ts';
export { Linear, LayerNorm, RMSNorm, Embedding, Conv2d, ConvTranspose2d, Dropout, MLP, activate, type Activation } from './layers.ts';
export { manualSeed, uniformInit, normalInit, constantInit } from './init.ts';
export { readSafetensors, readSafetensorsHeader, readSafetensorsBuffer, writeSafetensors, SafetensorsError, type FloatStorageType } from './safetensors.ts';
export { applyLora, mergeLora, loraStateDict, loadLora, fromPeftKey, LoraLinear, type LoraConfig } from './lora.ts';
export { AdamW, clipGradNorm, type AdamWOptions } from './optim.ts';
export { cosineWithWarmup } from './schedule.ts';
