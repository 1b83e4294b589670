// Batched matrix product with broadcast batch dims, as torch.matmul. Transposed views go to the kernel as
// transpose flags, so backward's products (g·Bᵀ, Aᵀ·g) copy nothing.
import { Tensor } from '../tensor.ts';
import { allocate, promote, isFloat, type FloatStorage } from '../dtype.ts';
import { record } from '../autograd.ts';
import { check, fmt } from '../errors.ts';
import { broadcastShapes, broadcastStrides, numel, stridedOffsets } from '../shape.ts';
import { gemmBatched } from '../backend/index.ts';
import { sumTo } from './reduce.ts';
import { contiguous, reshape, squeeze, transpose, unsqueeze } from './view.ts';

/** How the kernel can read the last two dims of t in place: row-major (trans false) or column-major, with a leading dim. */
function layout(t: Tensor): { trans: boolean; ld: number } | null {
  const [R, C] = t.shape.slice(-2) as [number, number];
  const [sr, sc] = t.strides.slice(-2) as [number, number];
  if ((C === 1 || sc === 1) && (R === 1 || sr >= Math.max(C, 1))) return { trans: false, ld: R === 1 ? Math.max(C, 1) : sr };
  if ((R === 1 || sr === 1) && (C === 1 || sc >= Math.max(R, 1))) return { trans: true, ld: C === 1 ? Math.max(R, 1) : sc };
  return null;
}

export function matmul(a: Tensor, b: Tensor): Tensor {
  check(a.ndim >= 1 && b.ndim >= 1, () => `matmul: shapes ${fmt(a.shape)} and ${fmt(b.shape)}: both need at least 1 dim`);
  // checked before vectors become matrices, so that the message names the shapes the caller passed
  const [Ka, Kb] = [a.shape.at(-1)!, b.ndim === 1 ? b.shape[0]! : b.shape.at(-2)!];
  check(Ka === Kb, () => `matmul: shapes ${fmt(a.shape)} and ${fmt(b.shape)}: inner dims ${Ka} and ${Kb} differ`);
  // vectors: a (K) is a row (1, K), b (K) a column (K, 1); the added dim is dropped again
  if (a.ndim === 1) return squeeze(matmul(unsqueeze(a, 0), b), b.ndim === 1 ? 0 : -2);
  if (b.ndim === 1) return squeeze(matmul(a, unsqueeze(b, 1)), -1);
  const [M, K] = a.shape.slice(-2) as [number, number];
  const N = b.shape.at(-1)!;
  check(isFloat(a.dtype) && isFloat(b.dtype), () => `matmul: needs float tensors, got ${a.dtype} and ${b.dtype}`);
  // (…, M, K)·(K, N): one product with M' = …·M, as torch does, instead of a batch of small ones
  if (b.ndim === 2 && a.ndim > 2) return reshape(matmul(reshape(a, [numel(a.shape.slice(0, -1)), K]), b), [...a.shape.slice(0, -1), N]);
  return product(a, b, M, K, N);
}

function product(a: Tensor, b: Tensor, M: number, K: number, N: number): Tensor {
  const batch = broadcastShapes(`matmul of ${fmt(a.shape)} and ${fmt(b.shape)}: batch dims`, a.shape.slice(0, -2), b.shape.slice(0, -2));
  const dtype = promote(a.dtype, b.dtype);
  const A = layout(a) === null || a.dtype !== dtype ? contiguous(a.to(dtype)) : a;
  const B = layout(b) === null || b.dtype !== dtype ? contiguous(b.to(dtype)) : b;
  const la = layout(A)!;
  const lb = layout(B)!;
  const offsets = (t: Tensor): Int32Array =>
    stridedOffsets(batch, broadcastStrides(t.shape.slice(0, -2), t.strides.slice(0, -2), batch), t.offset);
  const offsA = offsets(A);
  const C = allocate(dtype, offsA.length * M * N) as FloatStorage;
  if (M * N * K > 0) {
    gemmBatched(la.trans, lb.trans, M, N, K, A.data as FloatStorage, offsA, la.ld, B.data as FloatStorage, offsets(B), lb.ld, C);
  }
  const y = new Tensor(C, [...batch, M, N]);
  return record('matmul', y, [a, b], (g) => [
    a.requiresGrad ? sumTo(matmul(g, transpose(b)), a.shape) : null, // dA = g·Bᵀ
    b.requiresGrad ? sumTo(matmul(transpose(a), g), b.shape) : null, // dB = Aᵀ·g
  ]);
}
