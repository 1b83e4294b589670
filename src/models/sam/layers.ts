// The small building blocks SAM's modules share: SamMLPBlock, SamLayerNorm in channels-first form, SamFeedForward.
// https://github.com/huggingface/transformers/blob/main/src/transformers/models/sam/modeling_sam.py
import { Tensor, layerNorm } from '../../tensor/index.ts';
import { LayerNorm, Linear, Module, activate, type Activation } from '../../nn/index.ts';
import { SamConfigError } from './config.ts';

/** HF's ACT2FN names that SAM configs use, mapped to the nn layer's activations. */
export function activation(name: string): Activation {
  const known: Record<string, Activation> = { gelu: 'gelu', relu: 'relu', gelu_new: 'gelu_tanh', gelu_pytorch_tanh: 'gelu_tanh' };
  const act = known[name];
  if (act === undefined) throw new SamConfigError(`hidden_act ${JSON.stringify(name)} is not supported; use one of ${Object.keys(known).join(', ')}`);
  return act;
}

/** lin1 → act → lin2. */
export class SamMLPBlock extends Module {
  lin1: Linear;
  lin2: Linear;
  constructor(hiddenSize: number, mlpDim: number, readonly act: Activation) {
    super();
    this.lin1 = new Linear(hiddenSize, mlpDim);
    this.lin2 = new Linear(mlpDim, hiddenSize);
  }
  forward(x: Tensor): Tensor {
    return this.lin2.forward(activate(this.lin1.forward(x), this.act));
  }
}

/** Layer norm over the channels of a (B, C, H, W) map (SamLayerNorm with data_format "channels_first"). */
export class SamLayerNorm2d extends LayerNorm {
  override forward(x: Tensor): Tensor {
    const y = layerNorm(x.permute(0, 2, 3, 1), this.weight, this.bias, this.eps); // (B, H, W, C)
    return y.permute(0, 3, 1, 2); // (B, C, H, W)
  }
}

/** proj_in → ReLU → (layers.i → ReLU)… → proj_out, optionally a sigmoid: the hypernetwork MLPs and the IoU head. */
export class SamFeedForward extends Module {
  proj_in: Linear;
  layers: Linear[];
  proj_out: Linear;
  constructor(inputDim: number, hiddenDim: number, outputDim: number, numLayers: number, readonly sigmoidOutput = false) {
    super();
    this.proj_in = new Linear(inputDim, hiddenDim);
    this.layers = Array.from({ length: numLayers - 2 }, () => new Linear(hiddenDim, hiddenDim));
    this.proj_out = new Linear(hiddenDim, outputDim);
  }
  forward(x: Tensor): Tensor {
    let h = this.proj_in.forward(x).clamp(0);
    for (const layer of this.layers) h = layer.forward(h).clamp(0);
    const y = this.proj_out.forward(h);
    return this.sigmoidOutput ? y.sigmoid() : y;
  }
}
