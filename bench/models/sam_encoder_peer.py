"""PyTorch eager peer of bench/models/sam_encoder.ts: the same SAM-B image encoder forward (no grad, random
weights), written in plain torch as HF's SamVisionEncoder computes it (windowed attention with zero padding,
decomposed relative positions added to the scores, neck conv 1x1 -> LayerNorm2d -> conv 3x3 -> LayerNorm2d).
At 384 the 1024 checkpoint's pos_embed and global relative-position tables are resized, as our encoder does.
Usage: sam_encoder_peer.py --size 1024|384 [--reps N]; threads from env PIXELLLM_THREADS (default min(2, CPUs)).
Prints one JSON line {"name", "ms", "peak_rss_mb"}."""
import argparse, json, math, os, resource, sys, time

import torch
import torch.nn.functional as F
from torch import nn

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from peer_threads import set_threads  # noqa: E402

WIDTH, LAYERS, HEADS, WINDOW, GLOBAL, NECK, PATCH, CKPT_SIZE = 768, 12, 12, 14, (2, 5, 8, 11), 256, 16, 1024


def rel_positions(q, k, table):
    max_rel = 2 * max(q, k) - 1
    if table.shape[0] != max_rel:
        table = F.interpolate(table.t()[None], size=max_rel, mode="linear")[0].t()
    qc = torch.arange(q)[:, None] * max(k / q, 1.0)
    kc = torch.arange(k)[None, :] * max(q / k, 1.0)
    return table[((qc - kc) + (k - 1) * max(q / k, 1.0)).long()]


class Attention(nn.Module):
    def __init__(self, size):
        super().__init__()
        hs = WIDTH // HEADS
        self.qkv = nn.Linear(WIDTH, 3 * WIDTH)
        self.proj = nn.Linear(WIDTH, WIDTH)
        self.rel_pos_h = nn.Parameter(torch.randn(2 * size - 1, hs) * 0.02)
        self.rel_pos_w = nn.Parameter(torch.randn(2 * size - 1, hs) * 0.02)

    def forward(self, x):
        B, H, W, C = x.shape
        hs = C // HEADS
        qkv = self.qkv(x).reshape(B, H * W, 3, HEADS, hs).permute(2, 0, 3, 1, 4).reshape(3, B * HEADS, H * W, hs)
        q, k, v = qkv.unbind(0)
        attn = (q * hs ** -0.5) @ k.transpose(-2, -1)
        rq = q.reshape(B * HEADS, H, W, hs)
        rel_h = torch.einsum("bhwc,hkc->bhwk", rq, rel_positions(H, H, self.rel_pos_h))
        rel_w = torch.einsum("bhwc,wkc->bhwk", rq, rel_positions(W, W, self.rel_pos_w))
        attn = (attn.view(B * HEADS, H, W, H, W) + rel_h[:, :, :, :, None] + rel_w[:, :, :, None, :]).view(B * HEADS, H * W, H * W)
        out = (attn.softmax(dim=-1) @ v).view(B, HEADS, H, W, hs).permute(0, 2, 3, 1, 4).reshape(B, H, W, C)
        return self.proj(out)


class Layer(nn.Module):
    def __init__(self, window):
        super().__init__()
        self.window = window
        self.layer_norm1 = nn.LayerNorm(WIDTH, eps=1e-6)
        self.attn = Attention(window if window else CKPT_SIZE // PATCH)
        self.layer_norm2 = nn.LayerNorm(WIDTH, eps=1e-6)
        self.lin1 = nn.Linear(WIDTH, 4 * WIDTH)
        self.lin2 = nn.Linear(4 * WIDTH, WIDTH)

    def forward(self, x):
        B, H, W, C = x.shape
        h = self.layer_norm1(x)
        ws = self.window
        if ws:
            ph, pw = (ws - H % ws) % ws, (ws - W % ws) % ws
            h = F.pad(h, (0, 0, 0, pw, 0, ph))
            Hp, Wp = H + ph, W + pw
            h = h.reshape(B, Hp // ws, ws, Wp // ws, ws, C).permute(0, 1, 3, 2, 4, 5).reshape(-1, ws, ws, C)
        h = self.attn(h)
        if ws:
            h = h.reshape(B, Hp // ws, Wp // ws, ws, ws, C).permute(0, 1, 3, 2, 4, 5).reshape(B, Hp, Wp, C)[:, :H, :W]
        x = x + h
        return x + self.lin2(F.gelu(self.lin1(self.layer_norm2(x))))


def layer_norm_2d(x, eps=1e-6):
    u = x.mean(1, keepdim=True)
    s = (x - u).pow(2).mean(1, keepdim=True)
    return (x - u) / torch.sqrt(s + eps)  # weight 1, bias 0: the affine costs the same either way


class Encoder(nn.Module):
    def __init__(self):
        super().__init__()
        grid = CKPT_SIZE // PATCH
        self.patch = nn.Conv2d(3, WIDTH, PATCH, stride=PATCH)
        self.pos_embed = nn.Parameter(torch.randn(1, grid, grid, WIDTH) * 0.02)
        self.layers = nn.ModuleList(Layer(0 if i in GLOBAL else WINDOW) for i in range(LAYERS))
        self.conv1 = nn.Conv2d(WIDTH, NECK, 1, bias=False)
        self.conv2 = nn.Conv2d(NECK, NECK, 3, padding=1, bias=False)

    def forward(self, pixels):
        x = self.patch(pixels).permute(0, 2, 3, 1)
        pos = self.pos_embed
        if pos.shape[1] != x.shape[1]:
            pos = F.interpolate(pos.permute(0, 3, 1, 2), size=x.shape[1:3], mode="bicubic", antialias=True).permute(0, 2, 3, 1)
        x = x + pos
        for layer in self.layers:
            x = layer(x)
        x = layer_norm_2d(self.conv1(x.permute(0, 3, 1, 2)))
        return layer_norm_2d(self.conv2(x))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--size", type=int, choices=(1024, 384), default=1024)
    ap.add_argument("--reps", type=int, default=3)
    a = ap.parse_args()
    threads = int(os.environ.get("PIXELLLM_THREADS") or min(2, os.cpu_count() or 1))
    set_threads(threads)
    torch.manual_seed(0)
    enc = Encoder().eval()
    pixels = torch.randn(1, 3, a.size, a.size)
    with torch.no_grad():
        out = enc(pixels)
        grid = a.size // PATCH
        assert tuple(out.shape) == (1, NECK, grid, grid), out.shape
        assert torch.isfinite(out).all()
        enc(pixels)  # warm-up
        ts = []
        for _ in range(a.reps):
            t0 = time.perf_counter()
            enc(pixels)
            ts.append((time.perf_counter() - t0) * 1e3)
    ms = sorted(ts)[len(ts) // 2]
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux
    print(json.dumps({"name": f"sam_b_encoder_{a.size}", "ms": round(ms, 1), "peak_rss_mb": round(peak)}))


if __name__ == "__main__":
    main()
