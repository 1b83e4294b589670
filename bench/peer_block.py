"""PyTorch's CPU time for the MLP block of bench/block.ts, forward and backward.
Usage: peer_block.py THREADS REPS N C H; prints the median in ms."""
import sys, time
import torch

from peer_threads import set_threads

threads, reps, N, C, H = (int(a) for a in sys.argv[1:6])
set_threads(threads)
torch.manual_seed(0)
x0 = torch.randn(N, C)
w1 = (torch.randn(C, H) / C ** 0.5).requires_grad_(); b1 = torch.zeros(H, requires_grad=True)
w2 = (torch.randn(H, C) / H ** 0.5).requires_grad_(); b2 = torch.zeros(C, requires_grad=True)
lw = torch.ones(C, requires_grad=True); lb = torch.zeros(C, requires_grad=True)

def step():
    x = x0.clone().requires_grad_()
    h = torch.nn.functional.gelu(x @ w1 + b1)
    y = torch.nn.functional.layer_norm(h @ w2 + b2 + x, (C,), lw, lb)
    (y * y).mean().backward()
    for p in (w1, b1, w2, b2, lw, lb):
        p.grad = None

for _ in range(5):
    step()
ts = []
for _ in range(reps):
    t0 = time.perf_counter(); step(); ts.append((time.perf_counter() - t0) * 1e3)
print(sorted(ts)[len(ts) // 2])
