"""torchvision's vit_b_16 (random weights, eval, no_grad) timed as bench/models/vit_b16.ts times ours.
Usage: /usr/bin/python3 bench/models/vit_b16_peer.py --batch 1|8 [--reps N]; threads from PIXELLLM_THREADS.
Prints one JSON line {"name": "vit_b16_224_b<B>", "ms": median, "peak_rss_mb": ...}."""
import argparse, json, os, resource, sys, time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import torch
import torchvision

from peer_threads import set_threads

p = argparse.ArgumentParser()
p.add_argument("--batch", type=int, default=1)
p.add_argument("--reps", type=int, default=0)
a = p.parse_args()
reps = a.reps or (15 if a.batch == 1 else 5)
if os.environ.get("PIXELLLM_THREADS"):
    set_threads(int(os.environ["PIXELLLM_THREADS"]))

torch.manual_seed(0)
model = torchvision.models.vit_b_16().eval()
x = torch.randn(a.batch, 3, 224, 224)
with torch.no_grad():
    y = model(x)
    assert y.shape == (a.batch, 1000) and torch.isfinite(y).all()
    for _ in range(2):
        model(x)
    ts = []
    for _ in range(reps):
        t0 = time.perf_counter()
        model(x)
        ts.append((time.perf_counter() - t0) * 1e3)
ms = sorted(ts)[len(ts) // 2]
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps({"name": f"vit_b16_224_b{a.batch}", "ms": round(ms, 2), "peak_rss_mb": round(peak, 1)}))
