// The activations HF configs name in `hidden_act`, as transformers' ACT2FN defines them.
import { gelu, quickGelu, silu, type LinearActivation, type Tensor } from '../tensor/index.ts';
import { ConfigError } from './config.ts';

export type HiddenAct = 'gelu' | 'quick_gelu' | 'gelu_new' | 'gelu_pytorch_tanh' | 'relu' | 'silu';

const ACTS: Record<HiddenAct, (x: Tensor) => Tensor> = {
  gelu: (x) => gelu(x), // exact erf form
  quick_gelu: quickGelu, // x·σ(1.702x), CLIP's
  gelu_new: (x) => gelu(x, 'tanh'),
  gelu_pytorch_tanh: (x) => gelu(x, 'tanh'),
  relu: (x) => x.clamp(0),
  silu,
};

/** The function a config's `hidden_act` names. */
export function hiddenAct(name: string): (x: Tensor) => Tensor {
  const f = ACTS[name as HiddenAct];
  if (f === undefined) throw new ConfigError(`hidden_act '${name}' is not supported; use one of ${Object.keys(ACTS).join(', ')}`);
  return f;
}

/** The activation a Linear can fuse into its product (the GELUs), or null for the others. */
export function fusableAct(name: string): LinearActivation | null {
  return name === 'gelu' ? 'gelu' : name === 'gelu_new' || name === 'gelu_pytorch_tanh' ? 'gelu_tanh' : null;
}
