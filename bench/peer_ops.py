"""PyTorch's CPU time for the element-wise ops of bench/ops.ts. Usage: peer_ops.py THREADS REPS; prints JSON {name: ms}."""
import json, sys, time
import torch

from peer_threads import set_threads

threads, reps = int(sys.argv[1]), int(sys.argv[2])
set_threads(threads)
torch.manual_seed(0)
x0 = torch.randn(4096, 768)
w = torch.randn(768)
b = torch.randn(768)

def fwd_bwd(f):
    def run():
        x = x0.clone().requires_grad_(True)
        f(x).sum().backward()
    return run

cases = {
    "add (bias)": lambda: x0 + b,
    "exp": lambda: torch.exp(x0),
    "gelu erf fwd+bwd": fwd_bwd(torch.nn.functional.gelu),
    "softmax fwd+bwd": fwd_bwd(lambda x: torch.softmax(x, -1) * w),
    "layer_norm fwd+bwd": fwd_bwd(lambda x: torch.nn.functional.layer_norm(x, (768,), w, b, 1e-6)),
}
out = {}
for name, f in cases.items():
    f()
    ts = []
    for _ in range(reps):
        t0 = time.perf_counter(); f(); ts.append((time.perf_counter() - t0) * 1e3)
    out[name] = sorted(ts)[len(ts) // 2]
print(json.dumps(out))
