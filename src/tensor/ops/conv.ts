// 2-D convolutions as matrix products over image patches: unfold (im2col) and fold (col2im) are the primitives,
// each the other's backward; conv2d and conv_transpose2d are built from them and matmul, so their gradients come free.
import { Tensor } from '../tensor.ts';
import { allocate, type Storage } from '../dtype.ts';
import { record } from '../autograd.ts';
import { moveTapsF32 } from '../backend/index.ts';
import { check, fmt } from '../errors.ts';
import { matmul } from './matmul.ts';
import { add } from './elementwise.ts';
import { contiguous, reshape, transpose } from './view.ts';

/** How a window slides: one number for both dims or [h, w]. */
export interface Sliding {
  stride?: number | [number, number];
  padding?: number | [number, number];
  dilation?: number | [number, number];
}

export interface Window extends Sliding {
  kernel: [number, number];
}

const pair = (v: number | [number, number] | undefined, d: number): [number, number] =>
  v === undefined ? [d, d] : typeof v === 'number' ? [v, v] : v;

/** Resolved geometry of a sliding window over an H×W map. */
function geometry(op: string, H: number, W: number, win: Window) {
  const [kh, kw] = win.kernel;
  const [sh, sw] = pair(win.stride, 1);
  const [ph, pw] = pair(win.padding, 0);
  const [dh, dw] = pair(win.dilation, 1);
  const oh = Math.floor((H + 2 * ph - dh * (kh - 1) - 1) / sh) + 1;
  const ow = Math.floor((W + 2 * pw - dw * (kw - 1) - 1) / sw) + 1;
  check([H, W, kh, kw, sh, sw, dh, dw].every((v) => Number.isInteger(v) && v > 0) && ph >= 0 && pw >= 0 && oh > 0 && ow > 0,
    () => `${op}: window kernel ${kh}×${kw}, stride ${sh}×${sw}, padding ${ph}×${pw}, dilation ${dh}×${dw} does not fit a ${H}×${W} map`);
  return { kh, kw, sh, sw, ph, pw, dh, dw, oh, ow };
}

/**
 * Moves values between one image's (C·kh·kw, oh·ow) patch matrix and its (C, H, W) map, for every tap that reads
 * inside the map: toCols copies map → patches (unfold), otherwise patches are added onto the map (fold). One loop
 * per patch row over the output columns that fall inside, so the padding costs no test per element.
 */
function moveTaps(C: number, H: number, W: number, g: ReturnType<typeof geometry>, cols: Storage, colOff: number,
  map: Storage, mapOff: number, toCols: boolean): void {
  if (moveTapsF32 !== null && cols instanceof Float32Array && map instanceof Float32Array) {
    // the same loop in C++: rows here are as short as a feature map is wide, so per-row overhead dominates in TypeScript
    const geo = Int32Array.of(C, H, W, g.kh, g.kw, g.sh, g.sw, g.ph, g.pw, g.dh, g.dw, g.oh, g.ow);
    return moveTapsF32(geo, cols, colOff, map, mapOff, toCols);
  }
  const L = g.oh * g.ow;
  const { oh, ow, sh, sw, ph, pw, dh, dw } = g;
  for (let c = 0; c < C; c++) {
    for (let i = 0; i < g.kh; i++) {
      for (let j = 0; j < g.kw; j++) {
        const row = colOff + ((c * g.kh + i) * g.kw + j) * L;
        // output columns x with 0 ≤ x·sw − pw + j·dw < W
        const shift = j * dw - pw;
        const x0 = Math.max(0, Math.ceil(-shift / sw));
        const x1 = Math.min(ow, Math.floor((W - 1 - shift) / sw) + 1);
        if (x1 <= x0) continue;
        for (let y = 0; y < oh; y++) {
          const ih = y * sh - ph + i * dh;
          if (ih < 0 || ih >= H) continue;
          const at = row + y * ow;
          const px = mapOff + (c * H + ih) * W + shift;
          if (toCols) for (let x = x0; x < x1; x++) cols[at + x] = map[px + x * sw]!;
          else for (let x = x0; x < x1; x++) map[px + x * sw] += cols[at + x]!;
        }
      }
    }
  }
}

/** (B, C, H, W) → (B, C·kh·kw, oh·ow): each column is one receptive field, zero where it overhangs the padding. */
export function unfold(x: Tensor, win: Window): Tensor {
  check(x.ndim === 4, () => `unfold: needs (B, C, H, W), got ${fmt(x.shape)}`);
  const [B, C, H, W] = x.shape as [number, number, number, number];
  const g = geometry('unfold', H, W, win);
  const src = contiguous(x.detach());
  const rows = C * g.kh * g.kw;
  const L = g.oh * g.ow;
  const out = allocate(x.dtype, B * rows * L);
  for (let b = 0; b < B; b++) {
    moveTaps(C, H, W, g, out, b * rows * L, src.data, src.offset + b * C * H * W, true);
  }
  const y = new Tensor(out, [B, rows, L]); // (B, C·kh·kw, L)
  return record('unfold', y, [x], (grad) => [fold(grad, [H, W], win)]);
}

/** (B, C·kh·kw, L) → (B, C, H, W): sums every column back onto the pixels it covers (the adjoint of unfold). */
export function fold(cols: Tensor, size: [number, number], win: Window): Tensor {
  const [H, W] = size;
  const g = geometry('fold', H, W, win);
  const k = win.kernel[0] * win.kernel[1];
  check(cols.ndim === 3 && cols.shape[1]! % k === 0 && cols.shape[2] === g.oh * g.ow,
    () => `fold: columns ${fmt(cols.shape)} do not match a ${win.kernel.join('×')} window over ${H}×${W} (${g.oh * g.ow} positions)`);
  const [B, rows, L] = cols.shape as [number, number, number];
  const C = rows / k;
  const src = contiguous(cols.detach());
  const out = allocate(cols.dtype, B * C * H * W);
  for (let b = 0; b < B; b++) {
    moveTaps(C, H, W, g, src.data, src.offset + b * rows * L, out, b * C * H * W, false);
  }
  const y = new Tensor(out, [B, C, H, W]);
  return record('fold', y, [cols], (grad) => [unfold(grad, win)]);
}

export interface ConvOptions extends Sliding {
  groups?: number;
}

/** torch.nn.functional.conv2d: x (B, C, H, W), weight (O, C/groups, kh, kw), bias (O). */
export function conv2d(x: Tensor, weight: Tensor, bias: Tensor | null = null, opts: ConvOptions = {}): Tensor {
  const groups = opts.groups ?? 1;
  check(x.ndim === 4 && weight.ndim === 4 && x.shape[1] === weight.shape[1]! * groups && weight.shape[0]! % groups === 0,
    () => `conv2d: input ${fmt(x.shape)} and weight ${fmt(weight.shape)} do not match (groups ${groups})`);
  const [B, , H, W] = x.shape as [number, number, number, number];
  const [O, Cg, kh, kw] = weight.shape as [number, number, number, number];
  const win: Window = { kernel: [kh, kw], ...opts };
  const g = geometry('conv2d', H, W, win);
  // a 1×1 window with unit stride and no padding reads each pixel once: its patch matrix is the map itself
  const pointwise = kh === 1 && kw === 1 && g.sh === 1 && g.sw === 1 && g.ph === 0 && g.pw === 0;
  const cols = reshape(pointwise ? x : unfold(x, win), [B, groups, Cg * kh * kw, g.oh * g.ow]); // (B, G, C/G·kh·kw, L)
  const w = reshape(weight, [groups, O / groups, Cg * kh * kw]); // (G, O/G, C/G·kh·kw)
  let y = reshape(matmul(w, cols), [B, O, g.oh, g.ow]); // (B, O, oh, ow)
  if (bias !== null) y = add(y, reshape(checkBias('conv2d', bias, O), [1, O, 1, 1]));
  return y;
}

export interface ConvTransposeOptions extends Sliding {
  outputPadding?: number | [number, number];
}

/** torch.nn.functional.conv_transpose2d (groups 1): x (B, Cin, H, W), weight (Cin, Cout, kh, kw), bias (Cout). */
export function convTranspose2d(x: Tensor, weight: Tensor, bias: Tensor | null = null, opts: ConvTransposeOptions = {}): Tensor {
  check(x.ndim === 4 && weight.ndim === 4 && x.shape[1] === weight.shape[0],
    () => `convTranspose2d: input ${fmt(x.shape)} and weight ${fmt(weight.shape)} do not match`);
  const [B, Cin, H, W] = x.shape as [number, number, number, number];
  const [, Cout, kh, kw] = weight.shape as [number, number, number, number];
  const [sh, sw] = pair(opts.stride, 1);
  const [ph, pw] = pair(opts.padding, 0);
  const [oph, opw] = pair(opts.outputPadding, 0);
  const [dh, dw] = pair(opts.dilation, 1);
  check(oph < sh && opw < sw, () => `convTranspose2d: outputPadding ${oph}×${opw} must be smaller than stride ${sh}×${sw}`);
  const Ho = (H - 1) * sh - 2 * ph + dh * (kh - 1) + oph + 1;
  const Wo = (W - 1) * sw - 2 * pw + dw * (kw - 1) + opw + 1;
  check(Ho > 0 && Wo > 0, () => `convTranspose2d: a ${H}×${W} input with padding ${ph}×${pw} gives an empty ${Ho}×${Wo} output`);
  const w = transpose(reshape(weight, [Cin, Cout * kh * kw])); // (Cout·kh·kw, Cin)
  const cols = matmul(w, reshape(x, [B, Cin, H * W])); // (B, Cout·kh·kw, H·W)
  let y = fold(cols, [Ho, Wo], { kernel: [kh, kw], stride: [sh, sw], padding: [ph, pw], dilation: [dh, dw] }); // (B, Cout, Ho, Wo)
  if (bias !== null) y = add(y, reshape(checkBias('convTranspose2d', bias, Cout), [1, Cout, 1, 1]));
  return y;
}

function checkBias(op: string, bias: Tensor, channels: number): Tensor {
  check(bias.ndim === 1 && bias.shape[0] === channels, () => `${op}: bias ${fmt(bias.shape)} does not match ${channels} output channels`);
  return bias;
}
