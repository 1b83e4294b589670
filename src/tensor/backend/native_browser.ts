// What `#native-kernels` resolves to in a browser bundle (package.json "imports", condition "browser"): no addon,
// so the TypeScript kernels run, and no Node module is pulled into the bundle.
import type { NativeKernels } from './native.ts';

export const loadError: string | null = 'there is no native addon in a browser';

export function loadNative(): NativeKernels | null {
  return null;
}
