// torch interpolate(mode='bicubic', antialias=True, align_corners=False): what timm's resample_abs_pos_embed uses.
import { test } from 'node:test';
import { Generator, full, resize, tensor } from '../src/tensor/index.ts';
import { assertClose, gradcheck, leaf64 } from './helpers.ts';

// Rows: outputs, columns: the weight of each input sample. From torch 1.13 (float32), interpolating the basis
// vectors e_i of length n to m samples: F.interpolate(eye(n).reshape(n, 1, 1, n), size=(1, m), mode='bicubic',
// antialias=True).
const TORCH: [number, number, number[][]][] = [
  [5, 3, [[0.58461535, 0.44615382, 0, -0.0307692, 0], [-0.03720929, 0.24651162, 0.58139539, 0.24651162, -0.03720929],
    [0, -0.03076909, 0, 0.44615382, 0.58461523]]],
  [3, 5, [[1.07547164, -0.07547166, 0], [0.64925373, 0.39552242, -0.04477614], [0, 1, 0], [-0.04477607, 0.39552221, 0.64925385],
    [0, -0.07547167, 1.07547164]]],
  [4, 7, [[1.07932711, -0.07932709, 0, 0], [0.69794661, 0.34023425, -0.03818091, 0], [0.04526447, 0.98545718, -0.03072161, 0],
    [-0.0625, 0.5625, 0.5625, -0.0625], [0, -0.03072181, 0.98545712, 0.04526465], [0, -0.03818082, 0.34023395, 0.69794685],
    [0, 0, -0.07932699, 1.07932699]]],
];

test('torch antialiased bicubic weights match torch when shrinking and when growing', () => {
  for (const [n, m, want] of TORCH) {
    // resizing the identity along W yields the weight matrix transposed: y[i, o] = weight of input i in output o
    const eye = full([n, n], 0);
    for (let i = 0; i < n; i++) eye.data[i * n + i] = 1;
    const got = resize(eye.reshape(1, n, 1, n), [1, m], { method: 'bicubic', convention: 'torch', antialias: true }).reshape(n, m);
    assertClose(got.transpose(0, 1).contiguous(), tensor(want), 1e-6, `${n} → ${m}`);
  }
});

test('torch antialiased resize: rows sum to 1 and the gradient is the transposed product', () => {
  const opts = { method: 'bicubic', convention: 'torch', antialias: true } as const;
  assertClose(resize(full([1, 1, 6, 9], 1.5), [4, 13], opts), full([1, 1, 4, 13], 1.5), 1e-6, 'constant map');
  gradcheck((x) => resize(x, [3, 5], opts), [leaf64(new Generator(3).normal([1, 2, 5, 4]))]);
});
