/** An op got tensors it cannot work on: wrong shapes, dtypes or arguments. The message names the op and the values. */
export class TensorError extends Error {
  override name = 'TensorError';
}

/** One-line invariant check whose message names the values. */
export function check(cond: boolean, message: string | (() => string)): asserts cond {
  if (!cond) throw new TensorError(typeof message === 'string' ? message : message());
}

export const fmt = (shape: readonly number[]): string => `[${shape.join(', ')}]`;
