// The stored input of the bundled-model test: the example image, an expression and a region of it.
import type { Box } from '../src/data/types.ts';

export const BUNDLED_OUTPUT_INPUTS = {
  image: 'examples/scene.jpg',
  expression: 'the red circle',
  /** the brown ring, in image pixels */
  box: [40, 133, 124, 217] as Box,
};
