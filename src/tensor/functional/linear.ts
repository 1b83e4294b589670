// The fully connected layer, optionally with its activation: torch's F.linear then F.gelu, fused when no graph is
// recorded (the activation overwrites the product it just made instead of allocating another buffer).
import type { Tensor } from '../tensor.ts';
import { linearProduct } from '../ops/matmul.ts';
import { gelu, geluInPlace } from './activations.ts';

export type LinearActivation = 'gelu' | 'gelu_tanh';

/** act(x (…, K)·Wᵀ + b) with W (N, K) as torch stores it → (…, N); no activation when `activation` is null. */
export function linear(x: Tensor, weight: Tensor, bias: Tensor | null = null, activation: LinearActivation | null = null): Tensor {
  const y = linearProduct(x, weight, bias);
  if (activation === null) return y;
  const approximate = activation === 'gelu' ? 'none' : 'tanh';
  return y.requiresGrad ? gelu(y, approximate) : geluInPlace(y, approximate);
}
