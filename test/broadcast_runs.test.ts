// Broadcasting binary ops on the layouts that are not one repeated block, which run as runs of merged dims (the
// addon per run on the native backend): a bias over the channels of a batch, a mask broadcast over heads, a
// broadcast first operand, transposed and sliced operands, runs shorter than the addon's threshold, scalars and
// comparisons. Each element is checked against a reference that reads the operands by index through their strides;
// float32 add/sub/mul/div round once either way, so the results must be exact.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Generator, Tensor, add, div, ge, mul, sub } from '../src/tensor/index.ts';

/** x's element at the output index `idx` (right-aligned, broadcast dims read at 0), through its strides. */
function at(x: Tensor, idx: number[]): number {
  const lead = idx.length - x.ndim;
  let o = x.offset;
  for (let d = 0; d < x.ndim; d++) o += (x.shape[d] === 1 ? 0 : idx[lead + d]!) * x.strides[d]!;
  return x.data[o]!;
}

function expectOp(name: string, op: (a: Tensor, b: Tensor) => Tensor, f: (x: number, y: number) => number, a: Tensor, b: Tensor): void {
  const y = op(a, b);
  const v = y.values();
  const idx = new Array<number>(y.ndim).fill(0);
  for (let i = 0; i < y.size; i++) {
    const want = f(at(a, idx), at(b, idx));
    assert.ok(Object.is(v[i], want) || v[i] === want, `${name} ${JSON.stringify(a.shape)}∘${JSON.stringify(b.shape)}: [${idx}] ${v[i]} vs ${want}`);
    for (let d = y.ndim - 1; d >= 0; d--) if (++idx[d]! < y.shape[d]! || (idx[d] = 0, false)) break;
  }
}

const f32 = (x: number) => Math.fround(x);
const OPS: [string, (a: Tensor, b: Tensor) => Tensor, (x: number, y: number) => number][] = [
  ['add', add, (x, y) => f32(x + y)],
  ['sub', sub, (x, y) => f32(x - y)],
  ['mul', mul, (x, y) => f32(x * y)],
  ['div', div, (x, y) => f32(x / y)],
];

test('layouts that are not one repeated block equal the by-index reference exactly', () => {
  const g = new Generator(9);
  const n = (shape: number[]) => g.normal(shape);
  const cases: [string, Tensor, Tensor][] = [
    ['channel bias over a batch (runs of H·W, long enough for the addon)', n([3, 5, 16, 17]), n([1, 5, 1, 1])],
    ['the bias first (a constant along each run)', n([5, 1, 1]), n([3, 5, 16, 17])],
    ['mask broadcast over heads', n([2, 3, 17, 16]), n([2, 1, 17, 16])],
    ['channel bias, short runs (below the addon threshold)', n([3, 5, 6, 7]), n([1, 5, 1, 1])],
    ['short runs, bias first', n([5, 1, 1]), n([3, 5, 6, 7])],
    ['short runs of a middle broadcast', n([4, 3, 5]), n([4, 1, 5])],
    ['transposed operand', n([2, 40, 33]), n([2, 33, 40]).transpose(1, 2)],
    ['both transposed', n([2, 33, 40]).transpose(1, 2), n([2, 33, 40]).transpose(1, 2)],
    ['sliced rows (offset, row stride)', n([4, 50]), n([4, 80]).slice(1, 10, 60)],
    ['expanded middle dim of a transposed block', n([3, 4, 6, 8]), n([3, 1, 8, 6]).transpose(2, 3)],
    ['a 0-d tensor', n([6, 40]), n([])],
  ];
  for (const [label, a, b] of cases) for (const [name, op, f] of OPS) expectOp(`${label}: ${name}`, op, f, a, b);
});

test('comparisons and mixed types over the runs', () => {
  const g = new Generator(10);
  const a = g.normal([3, 4, 36]);
  expectOp('ge scalar', (x, y) => ge(x, y), (x, y) => +(x >= y), a, g.normal([]));
  expectOp('ge broadcast', (x, y) => ge(x, y), (x, y) => +(x >= y), a, g.normal([3, 1, 36]));
  expectOp('mul by a bool mask', mul, (x, y) => x * y, a, ge(g.normal([4, 1]), 0));
  expectOp('float64 over a float32 view', add, (x, y) => x + y, g.normal([36, 4], 0, 1, 'float64').transpose(0, 1), a);
});
