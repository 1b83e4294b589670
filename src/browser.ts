// The browser entry: everything that runs without Node (tensors on the TypeScript kernels, nn, LoRA, optimisers,
// safetensors from an ArrayBuffer, the backbones and generation). Files, images (sharp), the native addon and the
// command line are Node-only. test/browser_bundle.test.ts bundles this file for the browser and runs it without Node.
export * from './tensor/index.ts';
export * from './nn/index.ts';
export * from './models/generate.ts';
export { T5ForConditionalGeneration, t5StateDict } from './models/t5.ts';
export { LlamaForCausalLM } from './models/llama.ts';
export { GitForCausalLM } from './models/git.ts';
export { CLIPVisionModel } from './models/clip_vision.ts';
export { Eva } from './models/eva02.ts';
export { SamModel } from './models/sam/index.ts';
