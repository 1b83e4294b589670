// The environment PyTorch/numpy peers run in: ours minus OpenBLAS tuning overrides (OPENBLAS_CORETYPE,
// OPENBLAS_L2_SIZE), so OpenBLAS picks its own kernels for this CPU; what was removed is printed once.
let reported = false;

export function peerEnv(): NodeJS.ProcessEnv {
  const env = { ...process.env };
  const removed = ['OPENBLAS_CORETYPE', 'OPENBLAS_L2_SIZE'].filter((k) => k in env).map((k) => `${k}=${env[k]}`);
  for (const k of ['OPENBLAS_CORETYPE', 'OPENBLAS_L2_SIZE']) delete env[k];
  if (!reported) console.log(removed.length ? `peer environment: unset ${removed.join(', ')}` : 'peer environment: no OPENBLAS_CORETYPE / OPENBLAS_L2_SIZE to unset');
  reported = true;
  return env;
}
