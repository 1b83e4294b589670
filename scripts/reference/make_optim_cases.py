"""Reference values for test/optim.test.ts from torch.optim.AdamW, clip_grad_norm_ and HF's cosine schedule formula.
Run: /usr/bin/python3 scripts/reference/make_optim_cases.py > test/data/optim_cases.json  (needs torch)"""
import json, math
import torch

torch.manual_seed(0)
w = torch.randn(3, 4, dtype=torch.float64, requires_grad=True)
b = torch.randn(4, dtype=torch.float64, requires_grad=True)
init = {"w": w.detach().flatten().tolist(), "b": b.detach().tolist()}
opt = torch.optim.AdamW([{"params": [w], "weight_decay": 0.1}, {"params": [b], "weight_decay": 0.0, "lr": 0.05 * 0.5}],
                        lr=0.05, betas=(0.9, 0.95), eps=1e-6)
lr0 = [0.05, 0.025]
warmup, total = 2, 6
x = torch.randn(5, 3, dtype=torch.float64)
steps = []
for step in range(total):
    mult = step / max(1, warmup) if step < warmup else 0.5 * (1 + math.cos(math.pi * (step - warmup) / (total - warmup)))
    for g, base in zip(opt.param_groups, lr0):
        g["lr"] = base * mult
    opt.zero_grad()
    loss = ((x @ w + b).tanh() ** 2).sum() * 10
    loss.backward()
    norm = torch.nn.utils.clip_grad_norm_([w, b], 1.0)
    opt.step()
    steps.append({"mult": mult, "loss": loss.item(), "norm": norm.item(), "w": w.detach().flatten().tolist(), "b": b.detach().tolist()})
print(json.dumps({"init": init, "x": x.flatten().tolist(), "steps": steps}))
