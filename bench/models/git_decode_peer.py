"""PyTorch eager peer of bench/models/git_decode.ts: the same GIT-base-sized text decoder (6 post-norm BERT layers,
width 768, 12 heads, MLP 3072, vocabulary 30522, default torch initialisation), 32 image tokens, greedy decoding of
32 tokens with a KV cache preallocated and written in place, batch 1, under torch.inference_mode. Prints ONE JSON
line {"name","ms","peak_rss_mb"} (median ms of the whole generation).
Usage: PIXELLLM_THREADS=2 /usr/bin/python3 bench/models/git_decode_peer.py [--reps 5]"""
import json
import os
import resource
import sys
import time

import torch
import torch.nn.functional as F
from torch import nn

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from peer_threads import set_threads  # noqa: E402

WIDTH, LAYERS, HEADS, MLP, VOCAB, IMAGE_TOKENS, NEW_TOKENS, BOS, EPS = 768, 6, 12, 3072, 30522, 32, 32, 101, 1e-12
HS = WIDTH // HEADS


class DecoderLayer(nn.Module):
    def __init__(self):
        super().__init__()
        self.query, self.key, self.value = nn.Linear(WIDTH, WIDTH), nn.Linear(WIDTH, WIDTH), nn.Linear(WIDTH, WIDTH)
        self.attention_output = nn.Linear(WIDTH, WIDTH)
        self.attention_norm = nn.LayerNorm(WIDTH, eps=EPS)
        self.intermediate = nn.Linear(WIDTH, MLP)
        self.output = nn.Linear(MLP, WIDTH)
        self.output_norm = nn.LayerNorm(WIDTH, eps=EPS)

    def forward(self, x, cache, length, mask):
        B, T, _ = x.shape
        heads = lambda t: t.view(B, T, HEADS, HS).transpose(1, 2)  # (B, nh, T, hs)
        k_cache, v_cache = cache
        k_cache[:, :, length:length + T] = heads(self.key(x))
        v_cache[:, :, length:length + T] = heads(self.value(x))
        k, v = k_cache[:, :, :length + T], v_cache[:, :, :length + T]
        scores = heads(self.query(x)) @ k.transpose(-1, -2) / HS ** 0.5  # (B, nh, T, L)
        if mask is not None:
            scores = scores + mask
        ctx = scores.softmax(-1) @ v  # (B, nh, T, hs)
        h = self.attention_norm(x + self.attention_output(ctx.transpose(1, 2).reshape(B, T, WIDTH)))
        return self.output_norm(h + self.output(F.gelu(self.intermediate(h))))


class GitSizedDecoder(nn.Module):
    def __init__(self):
        super().__init__()
        self.word_embeddings = nn.Embedding(VOCAB, WIDTH)
        self.position_embeddings = nn.Embedding(1024, WIDTH)
        self.embeddings_norm = nn.LayerNorm(WIDTH, eps=EPS)
        self.layers = nn.ModuleList(DecoderLayer() for _ in range(LAYERS))
        self.output = nn.Linear(WIDTH, VOCAB)

    def generate(self, image):
        B, I, _ = image.shape
        cache = [(torch.empty(B, HEADS, I + 1 + NEW_TOKENS, HS), torch.empty(B, HEADS, I + 1 + NEW_TOKENS, HS)) for _ in range(LAYERS)]
        ids = torch.full((B, 1), BOS, dtype=torch.long)
        out = [ids]
        length = 0
        for step in range(NEW_TOKENS):
            x = self.embeddings_norm(self.word_embeddings(ids) + self.position_embeddings(torch.tensor([step])))
            mask = None
            if step == 0:  # image tokens see only image tokens; the text sees the image and earlier text
                L = I + 1
                mask = torch.zeros(L, L)
                mask[:I, I:] = float("-inf")
                x = torch.cat([image, x], 1)
            for i, layer in enumerate(self.layers):
                x = layer(x, cache[i], length, mask)
            length += x.shape[1]
            ids = self.output(x[:, -1]).argmax(-1, keepdim=True)
            out.append(ids)
        return torch.cat(out, 1)


def main():
    reps = int(sys.argv[sys.argv.index("--reps") + 1]) if "--reps" in sys.argv else 5
    set_threads(int(os.environ.get("PIXELLLM_THREADS", "2")))
    torch.manual_seed(0)
    model = GitSizedDecoder().eval()
    image = torch.randn(1, IMAGE_TOKENS, WIDTH)
    times = []
    with torch.inference_mode():
        model.generate(image)  # warm-up
        for _ in range(reps):
            t0 = time.perf_counter()
            model.generate(image)
            times.append((time.perf_counter() - t0) * 1000)
    times.sort()
    print(json.dumps({"name": "git_base_decode_32", "ms": times[len(times) // 2],
                      "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))


if __name__ == "__main__":
    main()
