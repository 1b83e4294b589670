"""The peer for bench/gemm.ts: PyTorch's torch.mm for GEMM shapes, numpy's float32 `A @ x` for one-row shapes.

Runs as a server so the benchmark can interleave our measurements with the peer's: one JSON request per line on
stdin, one JSON reply per line on stdout.
  {"cmd": "info"}                                    -> versions and the BLAS library in use
  {"cmd": "run", "kind": "mm"|"mv", "shape": [M, K, N], "threads": T, "reps": R, "warmup": W}
                                                     -> {"times": [seconds, ...]}
Both torch.mm and numpy's mat-vec call the system BLAS (OpenBLAS on Debian when libopenblas0 is installed), whose
own thread pool torch.set_num_threads does not control, so the thread count is also set through OpenBLAS's API.
Exits with status 3 if torch or numpy cannot be imported.
"""
import ctypes
import json
import sys
import time

try:
    import numpy as np
    import torch
except ImportError as err:  # the benchmark offers to install Debian's packages
    print(json.dumps({"error": "import", "detail": str(err)}), flush=True)
    sys.exit(3)


from peer_threads import blas_path, openblas, set_threads  # noqa: E402 (after the import check above)


def info():
    core = None
    if openblas is not None and hasattr(openblas, "openblas_get_corename"):
        openblas.openblas_get_corename.restype = ctypes.c_char_p
        core = openblas.openblas_get_corename().decode()
    return {"torch": torch.__version__, "numpy": np.__version__, "blas": blas_path,
            "openblas": openblas is not None, "openblas_core": core}


cache = {}


def operands(kind, shape):
    """Random operands for one shape, kept between requests (one shape at a time: the weights can be 256 MB)."""
    key = (kind, tuple(shape))
    if key not in cache:
        cache.clear()
        m, k, n = shape
        if kind == "mm":
            g = torch.Generator().manual_seed(0)
            cache[key] = (torch.randn(m, k, generator=g), torch.randn(k, n, generator=g), torch.empty(m, n))
        else:  # one row: y = A @ x with A stored N×K (outputs × inputs), as a linear layer's weight
            rng = np.random.default_rng(0)
            cache[key] = (rng.standard_normal((n, k), dtype=np.float32), rng.standard_normal(k, dtype=np.float32),
                          np.empty(n, dtype=np.float32))
    return cache[key]


def run(req):
    set_threads(req["threads"])
    a, b, out = operands(req["kind"], req["shape"])
    if req["kind"] == "mm":
        call = lambda: torch.mm(a, b, out=out)
    else:
        call = lambda: np.matmul(a, b, out=out)
    for _ in range(req.get("warmup", 0)):
        call()
    times = []
    for _ in range(req["reps"]):
        t0 = time.perf_counter()
        call()
        times.append(time.perf_counter() - t0)
    return {"times": times}


for line in sys.stdin:
    req = json.loads(line)
    reply = info() if req["cmd"] == "info" else run(req)
    print(json.dumps(reply), flush=True)
