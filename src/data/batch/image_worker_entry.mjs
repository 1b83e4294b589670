// Worker threads do not inherit a loader registered in-process (bin/pixelllm.mjs registers tsx that way), so each
// image worker registers tsx itself before loading the TypeScript body.
import { register } from 'tsx/esm/api';

register();
await import('./image_worker.ts');
