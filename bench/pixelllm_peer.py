"""PyTorch eager peer of bench/pixelllm.ts: PixelLLM with a SAM-style image encoder alone and the GIT-style text decoder
(pixelllm-tiny's architecture), built from the PixelLLMConfig JSON our preset dumps, with our parameter names and
shapes, so the parameter count must equal ours. Modules as src/models/pixelllm and src/models/sam write them: SAM ViT
(windowed + global attention with decomposed relative positions, absolute positions, conv neck), SAM prompt encoder
(box corner tokens + 3 no-mask tokens), the prompt adapter (SAM two-way transformer over learned queries, one output
projection per query), the visual projection, the post-norm BERT decoder over [visual ; prompt ; text] (visual tokens
bidirectional, text causal), the point head, the mask adapter + SAM mask decoder and the CenterNet-style proposal head;
the losses of src/train/losses.ts with the reference weights.

Modes (one JSON line on stdout each):
  --count                       parameter count and {name: shape} (no timing)
  --train --batch FILE          forward + backward + clip + AdamW update of the batches in FILE (written by
                                bench/pixelllm.ts), median ms per batch kind
  --caption --batch FILE        one image: encoder, visual tokens, greedy decoding with a preallocated KV cache of
                                exactly the new-token count in FILE (no stop at EOS), then the decoder teacher-forced
                                over the decoded tokens and the point head on every position; median ms
Common: --config FILE, --expect-params N (ours: fail unless equal) (PixelLLMConfig JSON), --reps N, --warmup N; threads from PIXELLLM_THREADS (default 2)."""
import argparse
import json
import math
import os
import resource
import sys
import time

import torch
import torch.nn.functional as F
from torch import nn

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from peer_threads import set_threads  # noqa: E402

F32_MIN = torch.finfo(torch.float32).min
NO_DECAY = ['*.bias', '*norm*.weight', '*LayerNorm.weight', '*embed*', '*_embed', '*.query_embed', '*pos_embed*', '*rel_pos*', '*gate', '*token*', '*.cls_token']
WEIGHTS = dict(caption=1, label_smoothing=0.1, point=0.1, mask_focal=20, mask_dice=1, mask_iou=1, proposal_heatmap=1, proposal_box=1, point_cell=0.5)


def attention(q, k, v, bias=None, scale=None):
    """q (…, Tq, hs), k and v (…, Tk, hs), an additive bias broadcast onto the scores → (…, Tq, hs)."""
    scores = (q @ k.transpose(-1, -2)) * (scale if scale is not None else q.shape[-1] ** -0.5)
    if bias is not None:
        scores = scores + bias
    return scores.softmax(-1) @ v


class LayerNorm2d(nn.LayerNorm):
    def forward(self, x):  # (B, C, H, W): over the channels
        return super().forward(x.permute(0, 2, 3, 1)).permute(0, 3, 1, 2)


# ---------------------------------------------------------------- SAM image encoder
class PatchEmbed(nn.Module):
    def __init__(self, v):
        super().__init__()
        self.projection = nn.Conv2d(v['num_channels'], v['hidden_size'], v['patch_size'], stride=v['patch_size'])


class VisionAttention(nn.Module):
    def __init__(self, v, window):
        super().__init__()
        C, nh = v['hidden_size'], v['num_attention_heads']
        self.nh = nh
        self.qkv = nn.Linear(C, 3 * C, bias=v['qkv_bias'])
        self.proj = nn.Linear(C, C)
        size = window or v['image_size'] // v['patch_size']
        self.rel_pos_h = nn.Parameter(torch.randn(2 * size - 1, C // nh) * 0.02)
        self.rel_pos_w = nn.Parameter(torch.randn(2 * size - 1, C // nh) * 0.02)

    @staticmethod
    def rel(size, table):
        assert table.shape[0] == 2 * size - 1, 'the peer runs SAM at its table size (no resize)'
        idx = torch.arange(size)[:, None] - torch.arange(size)[None, :] + size - 1
        return table[idx]  # (size, size, hs)

    def forward(self, x):  # (B, H, W, C)
        B, H, W, C = x.shape
        hs = C // self.nh
        q, k, v = self.qkv(x).reshape(B, H * W, 3, self.nh, hs).permute(2, 0, 3, 1, 4).reshape(3, B * self.nh, H * W, hs).unbind(0)
        attn = (q * hs ** -0.5) @ k.transpose(-2, -1)  # (B·nh, HW, HW)
        rq = q.reshape(B * self.nh, H, W, hs)
        rel_h = torch.einsum('bhwc,hkc->bhwk', rq, self.rel(H, self.rel_pos_h))
        rel_w = torch.einsum('bhwc,wkc->bhwk', rq, self.rel(W, self.rel_pos_w))
        attn = (attn.view(-1, H, W, H, W) + rel_h[:, :, :, :, None] + rel_w[:, :, :, None, :]).view(-1, H * W, H * W)
        out = (attn.softmax(-1) @ v).view(B, self.nh, H, W, hs).permute(0, 2, 3, 1, 4).reshape(B, H, W, C)
        return self.proj(out)


class MLPBlock(nn.Module):
    def __init__(self, C, hidden, act):
        super().__init__()
        self.lin1, self.lin2, self.act = nn.Linear(C, hidden), nn.Linear(hidden, C), act

    def forward(self, x):
        return self.lin2(self.act(self.lin1(x)))


class VisionLayer(nn.Module):
    def __init__(self, v, window):
        super().__init__()
        C, eps = v['hidden_size'], v['layer_norm_eps']
        self.window = window
        self.layer_norm1 = nn.LayerNorm(C, eps=eps)
        self.attn = VisionAttention(v, window)
        self.layer_norm2 = nn.LayerNorm(C, eps=eps)
        self.mlp = MLPBlock(C, v['mlp_dim'], F.gelu)

    def forward(self, x):
        B, H, W, C = x.shape
        h, ws = self.layer_norm1(x), self.window
        if ws:
            assert H % ws == 0 and W % ws == 0, 'the peer needs whole windows'
            h = h.reshape(B, H // ws, ws, W // ws, ws, C).permute(0, 1, 3, 2, 4, 5).reshape(-1, ws, ws, C)
        h = self.attn(h)
        if ws:
            h = h.reshape(B, H // ws, W // ws, ws, ws, C).permute(0, 1, 3, 2, 4, 5).reshape(B, H, W, C)
        x = x + h
        return x + self.mlp(self.layer_norm2(x))


class Neck(nn.Module):
    def __init__(self, v):
        super().__init__()
        out = v['output_channels']
        self.conv1 = nn.Conv2d(v['hidden_size'], out, 1, bias=False)
        self.layer_norm1 = LayerNorm2d(out, eps=1e-6)
        self.conv2 = nn.Conv2d(out, out, 3, padding=1, bias=False)
        self.layer_norm2 = LayerNorm2d(out, eps=1e-6)

    def forward(self, x):  # (B, H, W, C) → (B, out, H, W)
        return self.layer_norm2(self.conv2(self.layer_norm1(self.conv1(x.permute(0, 3, 1, 2)))))


class SamVisionEncoder(nn.Module):
    def __init__(self, v):
        super().__init__()
        g = v['image_size'] // v['patch_size']
        self.patch_embed = PatchEmbed(v)
        self.pos_embed = nn.Parameter(torch.randn(1, g, g, v['hidden_size']) * 0.02)
        self.layers = nn.ModuleList(VisionLayer(v, 0 if i in v['global_attn_indexes'] else v['window_size']) for i in range(v['num_hidden_layers']))
        self.neck = Neck(v)

    def forward(self, pixels):
        x = self.patch_embed.projection(pixels).permute(0, 2, 3, 1)  # (B, h, w, C)
        assert x.shape[1] == self.pos_embed.shape[1], 'the peer runs SAM at its pos_embed size (no resize)'
        x = x + self.pos_embed
        for layer in self.layers:
            x = layer(x)
        return self.neck(x)


# ---------------------------------------------------------------- SAM prompt encoder, two-way transformer, mask decoder
class PositionalEmbedding(nn.Module):
    def __init__(self, feats, scale):
        super().__init__()
        self.positional_embedding = nn.Parameter(torch.randn(2, feats) * scale)

    def forward(self, coords):  # (…, 2) in [0, 1] → (…, 2F)
        angles = (coords * 2 - 1) @ self.positional_embedding * (2 * math.pi)
        return torch.cat([angles.sin(), angles.cos()], -1)

    def dense(self, h, w):  # → (1, 2F, h, w)
        ys = ((torch.arange(h) + 0.5) / h)[:, None].expand(h, w)
        xs = ((torch.arange(w) + 0.5) / w)[None, :].expand(h, w)
        return self.forward(torch.stack([xs, ys], -1)).permute(2, 0, 1)[None]


class MaskEmbedding(nn.Module):
    def __init__(self, p):
        super().__init__()
        q, m = p['mask_input_channels'] // 4, p['mask_input_channels']
        self.conv1, self.layer_norm1 = nn.Conv2d(1, q, 2, stride=2), LayerNorm2d(q, eps=p['layer_norm_eps'])
        self.conv2, self.layer_norm2 = nn.Conv2d(q, m, 2, stride=2), LayerNorm2d(m, eps=p['layer_norm_eps'])
        self.conv3 = nn.Conv2d(m, p['hidden_size'], 1)


class PromptEncoder(nn.Module):
    def __init__(self, p, shared):
        super().__init__()
        C = p['hidden_size']
        self.size = p['image_size']
        self.shared_embedding = shared
        self.mask_embed = MaskEmbedding(p)  # unused with box prompts, as ours
        self.no_mask_embed = nn.Embedding(1, C)
        self.point_embed = nn.ModuleList(nn.Embedding(1, C) for _ in range(p['num_point_embeddings']))
        self.not_a_point_embed = nn.Embedding(1, C)

    def embed_boxes(self, boxes):  # (B, N, 4) canvas pixels → (B, N, 2, C)
        B, N, _ = boxes.shape
        corners = (boxes + 0.5).reshape(B, N, 2, 2) / self.size
        corner = torch.cat([self.point_embed[2].weight, self.point_embed[3].weight], 0)
        return self.shared_embedding(corners) + corner


class Attention(nn.Module):
    def __init__(self, C, nh, rate):
        super().__init__()
        inner = C // rate
        self.nh = nh
        self.q_proj, self.k_proj, self.v_proj, self.out_proj = nn.Linear(C, inner), nn.Linear(C, inner), nn.Linear(C, inner), nn.Linear(inner, C)

    def forward(self, q, k, v):
        heads = lambda x: x.reshape(-1, x.shape[-2], self.nh, x.shape[-1] // self.nh).transpose(1, 2)  # (B', nh, T, hs)
        q = self.q_proj(q)
        out = attention(heads(q), heads(self.k_proj(k)), heads(self.v_proj(v)))
        return self.out_proj(out.transpose(1, 2).reshape(q.shape))


class TwoWayBlock(nn.Module):
    def __init__(self, d, skip_pe):
        super().__init__()
        C, nh, rate, eps = d['hidden_size'], d['num_attention_heads'], d['attention_downsample_rate'], d['layer_norm_eps']
        self.skip_pe = skip_pe
        self.self_attn = Attention(C, nh, 1)
        self.layer_norm1 = nn.LayerNorm(C, eps=eps)
        self.cross_attn_token_to_image = Attention(C, nh, rate)
        self.layer_norm2 = nn.LayerNorm(C, eps=eps)
        self.mlp = MLPBlock(C, d['mlp_dim'], F.relu if d['hidden_act'] == 'relu' else F.gelu)
        self.layer_norm3 = nn.LayerNorm(C, eps=eps)
        self.layer_norm4 = nn.LayerNorm(C, eps=eps)
        self.cross_attn_image_to_token = Attention(C, nh, rate)

    def forward(self, queries, keys, query_pe, key_pe):
        if self.skip_pe:
            queries = self.self_attn(queries, queries, queries)
        else:
            q = queries + query_pe
            queries = queries + self.self_attn(q, q, queries)
        queries = self.layer_norm1(queries)
        k = keys + key_pe
        queries = self.layer_norm2(queries + self.cross_attn_token_to_image(queries + query_pe, k, keys))
        queries = self.layer_norm3(queries + self.mlp(queries))
        keys = self.layer_norm4(keys + self.cross_attn_image_to_token(k, queries + query_pe, queries))
        return queries, keys


class TwoWayTransformer(nn.Module):
    def __init__(self, d):
        super().__init__()
        self.layers = nn.ModuleList(TwoWayBlock(d, i == 0) for i in range(d['num_hidden_layers']))
        self.final_attn_token_to_image = Attention(d['hidden_size'], d['num_attention_heads'], d['attention_downsample_rate'])
        self.layer_norm_final_attn = nn.LayerNorm(d['hidden_size'])

    def forward(self, tokens, image, image_pe):  # tokens (B, N, T, C); image, image_pe (B·N, C, h, w)
        cells = lambda x: x.flatten(2).transpose(1, 2).unsqueeze(1)  # (B·N, 1, hw, C)
        B, N, T, C = tokens.shape
        pe = tokens.reshape(B * N, 1, T, C)
        key_pe, queries, keys = cells(image_pe), pe, cells(image)
        for layer in self.layers:
            queries, keys = layer(queries, keys, pe, key_pe)
        queries = self.layer_norm_final_attn(queries + self.final_attn_token_to_image(queries + pe, keys + key_pe, keys))
        return queries.reshape(B, N, T, C), keys


class FeedForward(nn.Module):
    def __init__(self, i, h, o, n):
        super().__init__()
        self.proj_in = nn.Linear(i, h)
        self.layers = nn.ModuleList(nn.Linear(h, h) for _ in range(n - 2))
        self.proj_out = nn.Linear(h, o)

    def forward(self, x):
        x = F.relu(self.proj_in(x))
        for layer in self.layers:
            x = F.relu(layer(x))
        return self.proj_out(x)


class MaskDecoder(nn.Module):
    def __init__(self, d):
        super().__init__()
        C = d['hidden_size']
        self.M = d['num_multimask_outputs'] + 1
        self.iou_token = nn.Embedding(1, C)
        self.mask_tokens = nn.Embedding(self.M, C)
        self.transformer = TwoWayTransformer(d)
        self.upscale_conv1 = nn.ConvTranspose2d(C, C // 4, 2, stride=2)
        self.upscale_conv2 = nn.ConvTranspose2d(C // 4, C // 8, 2, stride=2)
        self.upscale_layer_norm = LayerNorm2d(C // 4, eps=1e-6)
        self.output_hypernetworks_mlps = nn.ModuleList(FeedForward(C, C, C // 8, 3) for _ in range(self.M))
        self.iou_prediction_head = FeedForward(C, d['iou_head_hidden_dim'], self.M, d['iou_head_depth'])

    def forward(self, image, image_pe, sparse, dense):  # single-mask output: token 0's mask (B, 4h, 4w) and IoU (B)
        B, C, h, w = image.shape
        N = sparse.shape[1]
        out = torch.cat([self.iou_token.weight, self.mask_tokens.weight], 0).expand(B, N, 1 + self.M, C)
        tokens = torch.cat([out, sparse], 2)
        per_prompt = lambda x: x.unsqueeze(1).expand(B, N, C, h, w).reshape(B * N, C, h, w)
        out, cells = self.transformer(tokens, per_prompt(image + dense), per_prompt(image_pe.expand(B, C, h, w)))
        grid = cells.squeeze(1).transpose(1, 2).reshape(B * N, C, h, w)
        up = F.gelu(self.upscale_conv2(F.gelu(self.upscale_layer_norm(self.upscale_conv1(grid)))))  # (B·N, C/8, 4h, 4w)
        hyper = torch.stack([mlp(out[:, :, 1 + i]) for i, mlp in enumerate(self.output_hypernetworks_mlps)], 2)  # (B, N, M, C/8)
        H, W = up.shape[2:]
        masks = (hyper @ up.reshape(B, N, C // 8, H * W)).reshape(B, N, self.M, H, W)
        iou = self.iou_prediction_head(out[:, :, 0])
        return masks[:, 0, 0], iou[:, 0, 0]


# ---------------------------------------------------------------- PixelLLM's own parts
class PromptAdapter(nn.Module):
    def __init__(self, a, image_channels, prompt_channels):
        super().__init__()
        D, Q, O = a['hidden_size'], a['num_queries'], a['query_output_size']
        self.query_embed = nn.Parameter(torch.randn(Q, D))
        self.output_proj_weight = nn.Parameter(torch.empty(Q, D, O).uniform_(-D ** -0.5, D ** -0.5))
        self.output_proj_bias = nn.Parameter(torch.empty(Q, O).uniform_(-D ** -0.5, D ** -0.5))
        self.image_proj = nn.Linear(image_channels, D)
        self.pe_proj = nn.Linear(prompt_channels, D)
        self.prompt_proj = nn.Linear(prompt_channels, D)
        self.transformer = TwoWayTransformer(dict(hidden_size=D, hidden_act='relu', mlp_dim=a['mlp_dim'], num_hidden_layers=a['num_hidden_layers'],
                                                  num_attention_heads=a['num_attention_heads'], attention_downsample_rate=a['attention_downsample_rate'], layer_norm_eps=1e-6))

    def forward(self, image, image_pe, prompt):  # (B, g, g, Cf), (1, g, g, Cp), (B, 5, Cp) → (B, Q, O)
        B, g = image.shape[:2]
        Q, D = self.query_embed.shape
        cells = self.image_proj(image).permute(0, 3, 1, 2)
        pe = self.pe_proj(image_pe).permute(0, 3, 1, 2).expand(B, D, g, g)
        tokens = torch.cat([self.query_embed.expand(B, Q, D), self.prompt_proj(prompt)], 1).unsqueeze(1)
        out, _ = self.transformer(tokens, cells, pe)
        return torch.einsum('bqd,qdo->bqo', out[:, 0, :Q], self.output_proj_weight) + self.output_proj_bias


class VisualProjection(nn.Module):
    def __init__(self, i, w):
        super().__init__()
        self.linear, self.norm = nn.Linear(i, w), nn.LayerNorm(w)

    def forward(self, x):
        return self.norm(self.linear(x))


class Embeddings(nn.Module):
    def __init__(self, t):
        super().__init__()
        self.word_embeddings = nn.Embedding(t['vocab_size'], t['hidden_size'], padding_idx=t['pad_token_id'])
        self.position_embeddings = nn.Embedding(t['max_position_embeddings'], t['hidden_size'])
        self.LayerNorm = nn.LayerNorm(t['hidden_size'], eps=t['layer_norm_eps'])

    def forward(self, ids, start):
        return self.LayerNorm(self.word_embeddings(ids) + self.position_embeddings.weight[start:start + ids.shape[1]])


class Linear(nn.Module):  # BERT's sub-layer keys: dense (+ LayerNorm)
    def __init__(self, i, o, eps=None):
        super().__init__()
        self.dense = nn.Linear(i, o)
        if eps is not None:
            self.LayerNorm = nn.LayerNorm(o, eps=eps)


class SelfAttention(nn.Module):
    def __init__(self, C):
        super().__init__()
        self.query, self.key, self.value = nn.Linear(C, C), nn.Linear(C, C), nn.Linear(C, C)


class GitAttention(nn.Module):
    def __init__(self, C, eps):
        super().__init__()
        self.self = SelfAttention(C)
        self.output = Linear(C, C, eps)


class GitLayer(nn.Module):
    def __init__(self, t):
        super().__init__()
        C, eps = t['hidden_size'], t['layer_norm_eps']
        self.nh = t['num_attention_heads']
        self.attention = GitAttention(C, eps)
        self.intermediate = Linear(C, t['intermediate_size'])
        self.output = Linear(t['intermediate_size'], C, eps)

    def forward(self, x, mask, cache=None, past=0):
        B, T, C = x.shape
        heads = lambda t: t.view(B, T, self.nh, C // self.nh).transpose(1, 2)
        s = self.attention.self
        k, v = heads(s.key(x)), heads(s.value(x))
        if cache is not None:  # preallocated (B, nh, capacity, hs), written in place
            cache[0][:, :, past:past + T], cache[1][:, :, past:past + T] = k, v
            k, v = cache[0][:, :, :past + T], cache[1][:, :, :past + T]
        ctx = attention(heads(s.query(x)), k, v, mask).transpose(1, 2).reshape(B, T, C)
        a = self.attention.output.LayerNorm(self.attention.output.dense(ctx) + x)
        return self.output.LayerNorm(self.output.dense(F.gelu(self.intermediate.dense(a))) + a)


class Encoder(nn.Module):
    def __init__(self, t):
        super().__init__()
        self.layer = nn.ModuleList(GitLayer(t) for _ in range(t['num_hidden_layers']))


def git_mask(N, T, past, text_mask=None):
    """GIT's additive mask (1 or B, 1, N + T, past + N + T): image rows see only image keys, text rows are causal;
    text_mask (B, text keys) hides padded text keys with the float32 minimum."""
    Tk = past + N + T
    m = torch.zeros(N + T, Tk)
    m[:N, N:] = -math.inf
    m[N:, past + N:] = torch.triu(torch.full((T, T), -math.inf), 1)
    m = m[None, None]
    if text_mask is not None:
        keys = torch.zeros(text_mask.shape[0], 1, 1, Tk)
        keys[:, 0, 0, Tk - text_mask.shape[1]:] = (1 - text_mask.float()) * F32_MIN
        m = m + keys
    return m


class GitTextDecoder(nn.Module):
    def __init__(self, t):
        super().__init__()
        self.t = t
        self.embeddings = Embeddings(t)
        self.encoder = Encoder(t)
        self.output = nn.Linear(t['hidden_size'], t['vocab_size'])

    def decode(self, visual, ids, text_mask=None, cache=None, past=0, text_start=0):
        x = self.embeddings(ids, text_start)
        N = 0
        if visual is not None:
            x, N = torch.cat([visual, x], 1), visual.shape[1]
        mask = git_mask(N, ids.shape[1], past, text_mask)
        for i, layer in enumerate(self.encoder.layer):
            x = layer(x, mask, cache[i] if cache else None, past)
        return x

    def forward(self, visual, prompt_ids, prompt_mask, tokens, token_mask):
        """Each row is [prompt without its EOS ; text], packed left; the text's hidden states (B, T, C) come back."""
        B, T = tokens.shape
        p_len = prompt_mask.sum(1).tolist()
        t_len = token_mask.sum(1).tolist()
        starts = [max(0, p - 1) for p in p_len]
        L = max(s + T for s in starts)
        ids = torch.full((B, L), self.t['pad_token_id'], dtype=torch.long)
        mask = torch.zeros(B, L)
        for b in range(B):
            row = torch.cat([prompt_ids[b, :starts[b]], tokens[b, :t_len[b]]])
            ids[b, :len(row)] = row
            mask[b, :len(row)] = 1
        N = visual.shape[1]
        hidden = self.decode(visual, ids, mask)  # (B, N + L, C)
        at = torch.tensor([[N + starts[b] + i for i in range(T)] for b in range(B)])
        return hidden.gather(1, at[:, :, None].expand(B, T, hidden.shape[2]))


class PointPredictor(nn.Module):
    def __init__(self, width, hidden, n):
        super().__init__()
        self.norm = nn.LayerNorm(width, eps=1e-6)
        dims = [width] + [hidden] * n + [8]
        self.mlp = nn.Module()
        self.mlp.layers = nn.ModuleList(nn.Linear(dims[i], dims[i + 1]) for i in range(len(dims) - 1))

    def forward(self, x):
        x = self.norm(x)
        for i, layer in enumerate(self.mlp.layers):
            x = layer(x)
            if i < len(self.mlp.layers) - 1:
                x = F.gelu(x)
        return x


class GatedCrossAttentionLayer(nn.Module):
    def __init__(self, C, nh):
        super().__init__()
        self.nh = nh
        self.norm1, self.norm2 = nn.LayerNorm(C), nn.LayerNorm(C)
        self.q_proj, self.k_proj, self.v_proj, self.out_proj = nn.Linear(C, C), nn.Linear(C, C), nn.Linear(C, C), nn.Linear(C, C)
        self.mlp = nn.Module()
        self.mlp.layers = nn.ModuleList([nn.Linear(C, 4 * C), nn.Linear(4 * C, C)])
        self.attn_gate = nn.Parameter(torch.zeros(1))
        self.mlp_gate = nn.Parameter(torch.zeros(1))

    def forward(self, x, context, bias):
        heads = lambda t: t.reshape(t.shape[0], t.shape[1], self.nh, -1).transpose(1, 2)
        a = attention(heads(self.q_proj(self.norm1(x))), heads(self.k_proj(context)), heads(self.v_proj(context)), bias)
        x = x + self.out_proj(a.transpose(1, 2).reshape(x.shape)) * self.attn_gate.tanh()
        l1, l2 = self.mlp.layers
        return x + l2(F.gelu(l1(self.norm2(x)))) * self.mlp_gate.tanh()


class GridPointPredictor(nn.Module):
    """As point_head.ts GridPointPredictor: a softmax over the fused map's cells places the centre, an MLP the extents."""
    def __init__(self, width, channels, pe_channels, hidden, n):
        super().__init__()
        self.hidden = hidden
        self.norm = nn.LayerNorm(width, eps=1e-6)
        self.query, self.key, self.key_pe, self.value = nn.Linear(width, hidden), nn.Linear(channels, hidden), nn.Linear(pe_channels, hidden), nn.Linear(channels, hidden)
        dims = [width + hidden] + [hidden] * (n - 1) + [4]
        self.extent = nn.Module()
        self.extent.layers = nn.ModuleList(nn.Linear(dims[i], dims[i + 1]) for i in range(len(dims) - 1))

    def forward(self, x, cells, pe, S, valid):  # (B, T, W), (B, g, g, C), (1, g, g, Cp), S, (B, 2) → (B, T, 8)
        B, g, _, C = cells.shape
        h = self.norm(x)
        flat = cells.reshape(B, g * g, C)
        keys = self.key(flat) + self.key_pe(pe.reshape(1, g * g, -1))
        self.cell_logits = self.query(h) @ keys.transpose(1, 2) / self.hidden ** 0.5  # (B, T, g²) for the cell loss
        att = self.cell_logits.softmax(-1)
        c = (torch.arange(g, dtype=torch.float32) + 0.5) * S / g
        centres = torch.stack([c.repeat(g), c.repeat_interleave(g)], -1)  # (g², 2) x, y row-major
        centre = att @ centres
        z = torch.cat([h, att @ self.value(flat)], -1)
        for i, layer in enumerate(self.extent.layers):
            z = layer(z)
            if i < len(self.extent.layers) - 1:
                z = F.gelu(z)
        extent = F.softplus(z.clamp(-20, 20)) * (S / 16)
        v = valid.reshape(B, 1, 2).float()
        raw = lambda p: p / v * 2 - 1
        zero = torch.zeros_like(centre)
        return torch.cat([raw(centre - extent[..., :2]), zero, raw(centre + extent[..., 2:]), zero], -1)


class RegionTokens(nn.Module):
    """As region_tokens.ts: a k×k bilinear grid of the fused map inside the prompt box, projected, slot and box embedded."""
    def __init__(self, k, channels, width):
        super().__init__()
        self.k = k
        self.slot_embed = nn.Parameter(torch.randn(k * k, width) * 0.02)
        self.feature_proj, self.box_proj, self.norm = nn.Linear(channels, width), nn.Linear(4, width), nn.LayerNorm(width)

    def forward(self, fused, boxes, S):  # (B, g, g, C), (B, 4) → (B, k², W)
        B, g, _, C = fused.shape
        k = self.k
        f = (torch.arange(k, dtype=torch.float32) + 0.5) / k
        xs = boxes[:, 0:1] + f * (boxes[:, 2:3] - boxes[:, 0:1])  # (B, k)
        ys = boxes[:, 1:2] + f * (boxes[:, 3:4] - boxes[:, 1:2])
        grid = torch.stack([xs[:, None, :].expand(B, k, k), ys[:, :, None].expand(B, k, k)], -1)  # (B, k, k, 2) pixels
        grid = grid / S * 2 - 1  # align_corners=False puts cell i's centre at pixel (i + ½)·S/g, as ours
        pooled = F.grid_sample(fused.permute(0, 3, 1, 2), grid, mode='bilinear', padding_mode='border', align_corners=False)  # (B, C, k, k)
        pooled = pooled.flatten(2).transpose(1, 2)
        return self.norm(self.feature_proj(pooled) + self.slot_embed + self.box_proj(boxes / S)[:, None])


class MaskAdapter(nn.Module):
    def __init__(self, C, W, n, nh):
        super().__init__()
        self.text_proj, self.visual_proj = nn.Linear(W, C), nn.Linear(W, C)
        self.layers = nn.ModuleList(GatedCrossAttentionLayer(C, nh) for _ in range(n))

    def forward(self, image, visual, text, text_mask):
        B, C, h, w = image.shape
        context = torch.cat([self.visual_proj(visual), self.text_proj(text)], 1)
        keep = torch.cat([torch.ones(B, visual.shape[1]), text_mask.float()], 1)
        bias = ((keep - 1) * 1e9).reshape(B, 1, 1, -1)
        x = image.flatten(2).transpose(1, 2)
        for layer in self.layers:
            x = layer(x, context, bias)
        return x.transpose(1, 2).reshape(B, C, h, w)


class BoxDecoder(nn.Module):
    def __init__(self, C, H):
        super().__init__()
        self.conv1, self.conv2 = nn.Conv2d(C, H, 3, padding=1), nn.Conv2d(H, H, 3, padding=1)
        self.heatmap, self.ltrb = nn.Conv2d(H, 1, 1), nn.Conv2d(H, 4, 1)
        nn.init.constant_(self.heatmap.bias, -2.19)

    def forward(self, fused):  # (B, g, g, C) → logits (B, g, g), ltrb (B, g, g, 4)
        h = F.relu(self.conv2(F.relu(self.conv1(fused.permute(0, 3, 1, 2)))))
        return self.heatmap(h)[:, 0], self.ltrb(h).permute(0, 2, 3, 1)


class PixelLLM(nn.Module):
    def __init__(self, c):
        super().__init__()
        assert c['eva'] is None and c['text']['kind'] == 'git', 'the peer builds the SAM-only, GIT-decoder PixelLLM (pixelllm-tiny, pixelllm-cpu)'
        v, p, d, t = c['sam']['vision_config'], c['sam']['prompt_encoder_config'], c['sam']['mask_decoder_config'], c['text']['config']
        Cs, W, a = v['output_channels'], t['hidden_size'], c['prompt_adapter']
        self.c = c
        self.sam_backbone = SamVisionEncoder(v)
        self.prompt_encoder = PromptEncoder(p, PositionalEmbedding(v['num_pos_feats'], v['hidden_size'] // 2))
        self.prompt_adapter = PromptAdapter(a, Cs, Cs)
        self.visual_project_layers = VisualProjection(a['query_output_size'], W)
        self.textual = GitTextDecoder(t)
        ph = c['point_head']
        self.point_predictor = (GridPointPredictor(W, Cs, p['hidden_size'], ph['hidden_size'], ph['num_layers']) if ph.get('kind') == 'grid'
                                else PointPredictor(W, ph['hidden_size'], ph['num_layers']))
        if c.get('region_tokens'):
            self.region_tokens = RegionTokens(c['region_tokens'], Cs, W)
        m = c['mask_adapter']
        self.mask_adapter = MaskAdapter(m['hidden_size'], W, m['num_layers'], m['num_attention_heads'])
        self.mask_decoder = MaskDecoder(d)
        self.box_decoder = BoxDecoder(Cs, c['proposal_head']['hidden_size'])

    def encode(self, pixels):  # → fused (B, g, g, Cs), sam (B, Cs, g, g)
        sam = self.sam_backbone(pixels)
        return sam.permute(0, 2, 3, 1), sam

    def visual_tokens(self, fused, boxes):
        g = fused.shape[1]
        pe = self.prompt_encoder.shared_embedding.dense(g, g).permute(0, 2, 3, 1)
        B = boxes.shape[0]
        corners = self.prompt_encoder.embed_boxes(boxes.reshape(B, 1, 4))[:, 0]
        prompt = torch.cat([corners, self.prompt_encoder.no_mask_embed.weight[None].expand(B, 3, -1)], 1)  # (B, 5, Cp)
        visual = self.visual_project_layers(self.prompt_adapter(fused, pe, prompt))
        if not self.c.get('region_tokens'):
            return visual
        return torch.cat([visual, self.region_tokens(fused, boxes, self.c['image_size'])], 1)

    def points(self, hidden, fused, valid):  # (B, T, W) → raw (B, T, 8)
        if isinstance(self.point_predictor, PointPredictor):
            return self.point_predictor(hidden)
        g = fused.shape[1]
        pe = self.prompt_encoder.shared_embedding.dense(g, g).permute(0, 2, 3, 1)
        return self.point_predictor(hidden, fused, pe, self.c['image_size'], valid)

    def masks(self, sam, visual, text, text_mask, boxes):
        B, C, h, w = sam.shape
        image = self.mask_adapter(sam, visual, text, text_mask)
        sparse = self.prompt_encoder.embed_boxes(boxes.reshape(B, 1, 4))
        dense = self.prompt_encoder.no_mask_embed.weight.reshape(1, -1, 1, 1).expand(B, -1, h, w)
        return self.mask_decoder(image, self.prompt_encoder.shared_embedding.dense(h, w), sparse, dense)


# ---------------------------------------------------------------- losses (src/train/losses.ts)
def caption_loss(model, hidden, tokens, token_mask, eps):
    nxt = token_mask[:, 1:].bool()
    lp = model.textual.output(hidden[:, :-1][nxt]).log_softmax(-1)  # (n, V)
    picked = lp.gather(1, tokens[:, 1:][nxt][:, None])[:, 0]
    others = lp.sum(-1) - picked
    return -((1 - eps) * picked + eps / (lp.shape[1] - 1) * others).mean()


def points_to_boxes(raw, valid):  # raw (…, 8), valid (…, 2) → (…, 4) pixels
    xy = torch.cat([raw[..., 0:2], raw[..., 4:6]], -1)
    return (xy + 1) / 2 * torch.cat([valid, valid], -1).float()


def cell_loss(logits, boxes, mask, S):  # as losses.ts cellLoss: CE towards the cell holding each box centre
    g = round(logits.shape[-1] ** 0.5)
    sel = mask.bool()
    b = boxes[sel]
    cell = lambda v: (v * g / S).floor().clamp(0, g - 1).long()
    return F.cross_entropy(logits[sel], cell((b[:, 1] + b[:, 3]) / 2) * g + cell((b[:, 0] + b[:, 2]) / 2))


def point_loss(raw, targets, mask, valid):
    B = mask.shape[0]
    boxes = points_to_boxes(raw, valid.reshape(B, 1, 2))
    m = mask.bool()
    if not m.any():
        return raw.sum() * 0
    return (boxes[m] - targets[m]).abs().mean()


def focal(logits, t, alpha=0.25, gamma=2):
    p = logits.sigmoid()
    ce = F.binary_cross_entropy_with_logits(logits, t, reduction='none')
    pt = p * t + (1 - p) * (1 - t)
    return (ce * (1 - pt) ** gamma * (alpha * t + (1 - alpha) * (1 - t))).mean()


def dice(logits, t):
    p, t = logits.sigmoid().flatten(1), t.flatten(1)
    return (1 - (2 * (p * t).sum(-1) + 1) / (p.sum(-1) + t.sum(-1) + 1)).mean()


def mask_targets(masks, m):  # (n, S, S) bool → (n, m, m) block average ≥ 0.5
    return (F.avg_pool2d(masks.float()[:, None], masks.shape[1] // m)[:, 0] >= 0.5).float()


def gaussian_radius(h, w, o=0.7):
    r1 = (h + w - math.sqrt((h + w) ** 2 - 4 * h * w * (1 - o) / (1 + o))) / 2
    r2 = (2 * (h + w) - math.sqrt(4 * (h + w) ** 2 - 16 * (1 - o) * h * w)) / 8
    a3 = 4 * o
    r3 = (-2 * o * (h + w) + math.sqrt((2 * o * (h + w)) ** 2 - 4 * a3 * (o - 1) * w * h)) / (2 * a3)
    return max(0.0, min(r1, r2, r3))


def proposal_targets(rows, g, S):
    stride = S / g
    heat = torch.zeros(len(rows), g, g)
    centres, boxes = [], []
    for b, row in enumerate(rows):
        for x0, y0, x1, y1 in row:
            if x1 - x0 < 1 or y1 - y0 < 1:
                continue
            cx = min(g - 1, max(0, math.floor((x0 + x1) / 2 / stride)))
            cy = min(g - 1, max(0, math.floor((y0 + y1) / 2 / stride)))
            r = max(0, math.floor(gaussian_radius((y1 - y0) / stride, (x1 - x0) / stride)))
            sigma = (2 * r + 1) / 6
            ys = torch.arange(max(0, cy - r), min(g - 1, cy + r) + 1)
            xs = torch.arange(max(0, cx - r), min(g - 1, cx + r) + 1)
            gauss = torch.exp(-((xs[None] - cx) ** 2 + (ys[:, None] - cy) ** 2) / (2 * sigma * sigma))
            heat[b, ys[0]:ys[-1] + 1, xs[0]:xs[-1] + 1] = torch.maximum(heat[b, ys[0]:ys[-1] + 1, xs[0]:xs[-1] + 1], gauss)
            heat[b, cy, cx] = 1
            centres.append(b * g * g + cy * g + cx)
            boxes.append([x0, y0, x1, y1])
    return heat, centres, boxes


def proposal_losses(model, fused, rows, w):
    B, g = fused.shape[:2]
    S = model.c['image_size']
    logits, ltrb = model.box_decoder(fused)
    heat, centres, boxes = proposal_targets(rows, g, S)
    p = logits.sigmoid().clamp(1e-4, 1 - 1e-4)
    pos = (heat == 1).float()
    loss = (p.log() * (1 - p) ** 2 * pos + (1 - p).log() * p ** 2 * (1 - heat) ** 4 * (1 - pos)).sum()
    out = {'proposal_heatmap': -loss / max(1, len(centres)) * w['proposal_heatmap']}
    if centres:
        stride = S / g
        c = (torch.arange(g) + 0.5) * stride
        centre = torch.stack([c[None].expand(g, g), c[:, None].expand(g, g)] * 2, -1)  # (g, g, 4): x, y, x, y
        pred = (centre + ltrb.exp() * stride * torch.tensor([-1., -1, 1, 1])).reshape(-1, 4)[torch.tensor(centres)]
        t = torch.tensor(boxes, dtype=torch.float32)
        area_p = (pred[:, 2] - pred[:, 0]).clamp(min=0) * (pred[:, 3] - pred[:, 1]).clamp(min=0)
        area_t = (t[:, 2] - t[:, 0]) * (t[:, 3] - t[:, 1])
        inter = (torch.minimum(pred[:, 2], t[:, 2]) - torch.maximum(pred[:, 0], t[:, 0])).clamp(min=0) * \
                (torch.minimum(pred[:, 3], t[:, 3]) - torch.maximum(pred[:, 1], t[:, 1])).clamp(min=0)
        union = (area_p + area_t - inter).clamp(min=1e-6)
        hull = ((torch.maximum(pred[:, 2], t[:, 2]) - torch.minimum(pred[:, 0], t[:, 0])) *
                (torch.maximum(pred[:, 3], t[:, 3]) - torch.minimum(pred[:, 1], t[:, 1]))).clamp(min=1e-6)
        out['proposal_box'] = (1 - (inter / union - (hull - union) / hull)).mean() * w['proposal_box']
    return out


def batch_losses(model, b, w=WEIGHTS):
    """As src/train/step.ts batchLosses: the weighted loss terms of one task-pure batch."""
    out = {}
    fused, sam = model.encode(b['images'])
    visual = model.visual_tokens(fused, b['prompt_boxes'])
    hidden = model.textual(visual, b['prompt_tokens'], b['prompt_mask'], b['tokens'], b['token_mask'])
    B = b['tokens'].shape[0]
    if b['task'] != 'refer':
        out['caption'] = caption_loss(model, hidden, b['tokens'], b['token_mask'], w['label_smoothing']) * w['caption']
    if b['task'] == 'trace':
        out['point'] = point_loss(model.points(hidden, fused, b['valid_size']), b['trace_boxes'], b['trace_mask'], b['valid_size']) * w['point']
        if isinstance(model.point_predictor, GridPointPredictor):
            out['point_cell'] = cell_loss(model.point_predictor.cell_logits, b['trace_boxes'], b['trace_mask'], model.c['image_size']) * w['point_cell']
    if b['task'] == 'refer':
        pre_eos = (b['token_mask'].sum(1) - 2).clamp(min=0)
        raw = model.points(hidden[torch.arange(B), pre_eos][:, None], fused, b['valid_size'])
        if isinstance(model.point_predictor, GridPointPredictor):
            out['point_cell'] = cell_loss(model.point_predictor.cell_logits, b['boxes'][:, None], b['box_valid'][:, None], model.c['image_size']) * w['point_cell']
        out['box'] = point_loss(raw, b['boxes'][:, None], b['box_valid'][:, None], b['valid_size']) * w['point']
        rows = (b['mask_valid'] & b['box_valid']).nonzero()[:, 0]
        if len(rows):
            logits, iou = model.masks(sam[rows], visual[rows], hidden[rows], b['token_mask'][rows], b['boxes'][rows])
            t = mask_targets(b['masks'][rows], logits.shape[1])
            with torch.no_grad():
                hard = (logits > 0).float().flatten(1)
                tf = t.flatten(1)
                actual = (hard * tf).sum(-1) / (hard + tf - hard * tf).sum(-1).clamp(min=1)
            out['mask_focal'] = focal(logits, t) * w['mask_focal']
            out['mask_dice'] = dice(logits, t) * w['mask_dice']
            out['mask_iou'] = ((iou - actual) ** 2).mean() * w['mask_iou']
    if any(b['objects']):
        out.update(proposal_losses(model, fused, b['objects'], w))
    return out


def matches(key, pattern):
    import re
    return re.fullmatch('.*'.join(re.escape(s) for s in pattern.split('*')), key) is not None


def optimizer(model, lr=5e-4, wd=0.05):
    decay, exempt = [], []
    for k, p in model.named_parameters():
        (exempt if any(matches(k, pat) for pat in NO_DECAY) else decay).append(p)
    return torch.optim.AdamW([{'params': decay, 'weight_decay': wd}, {'params': exempt, 'weight_decay': 0}], lr=lr)


# ---------------------------------------------------------------- the batch file and the timed work
def load_batch(raw, S):
    B, T, P = raw['B'], raw['T'], raw['P']
    L = lambda k, *shape, dt=torch.long: torch.tensor(raw[k], dtype=dt).reshape(*shape)
    b = dict(task=raw['task'], images=torch.randn(B, 3, S, S), tokens=L('tokens', B, T), token_mask=L('token_mask', B, T),
             prompt_tokens=L('prompt_tokens', B, P), prompt_mask=L('prompt_mask', B, P),
             prompt_boxes=L('prompt_boxes', B, 4, dt=torch.float32), valid_size=L('valid_size', B, 2),
             boxes=L('boxes', B, 4, dt=torch.float32), box_valid=L('box_valid', B, dt=torch.bool), objects=raw['objects'])
    if raw['task'] == 'trace':
        b.update(trace_boxes=L('trace_boxes', B, T, 4, dt=torch.float32), trace_mask=L('trace_mask', B, T))
    if 'masks' in raw:
        b.update(masks=L('masks', B, S, S, dt=torch.bool), mask_valid=L('mask_valid', B, dt=torch.bool))
    return b


def median_ms(f, reps, warmup):
    for _ in range(warmup):
        f()
    ts = []
    for _ in range(reps):
        t0 = time.perf_counter()
        f()
        ts.append((time.perf_counter() - t0) * 1e3)
    return sorted(ts)[len(ts) // 2]


def train_step(model, opt, batch):
    parts = batch_losses(model, batch)
    sum(parts.values()).backward()
    torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
    opt.step()
    opt.zero_grad(set_to_none=True)


def caption(model, pixels, prompt, new_tokens):
    """Greedy decoding of exactly new_tokens after [visual ; prompt ; BOS] with a KV cache, then the decoder
    teacher-forced over BOS + the decoded tokens + EOS and the point head on every position → raw points (1, n, 8)."""
    t, text = model.c['text']['config'], model.textual
    fused, _ = model.encode(pixels)
    S = model.c['image_size']
    visual = model.visual_tokens(fused, torch.tensor([[0., 0, S, S]]))
    N, C, nh = visual.shape[1], t['hidden_size'], t['num_attention_heads']
    first = torch.tensor([prompt + [t['bos_token_id']]])
    cap = N + first.shape[1] + new_tokens
    cache = [(torch.empty(1, nh, cap, C // nh), torch.empty(1, nh, cap, C // nh)) for _ in text.encoder.layer]
    ids, out, past, pos = first, [], 0, 0
    for step in range(new_tokens):
        h = text.decode(visual if step == 0 else None, ids, cache=cache, past=past, text_start=pos)
        past, pos = past + h.shape[1], pos + ids.shape[1]
        ids = text.output(h[:, -1]).argmax(-1, keepdim=True)
        out.append(ids)
    tokens = torch.cat([torch.tensor([[t['bos_token_id']]])] + out + [torch.tensor([[t['eos_token_id']]])], 1)  # (1, n + 2)
    pmask = torch.ones(1, len(prompt) + 1, dtype=torch.long)
    pids = torch.tensor([prompt + [t['eos_token_id']]])
    hidden = text(visual, pids, pmask, tokens, torch.ones_like(tokens))
    return model.points(hidden, fused, torch.tensor([[float(S), float(S)]]))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--config', required=True)
    ap.add_argument('--batch')
    ap.add_argument('--count', action='store_true')
    ap.add_argument('--train', action='store_true')
    ap.add_argument('--caption', action='store_true')
    ap.add_argument('--expect-params', type=int, help="ours: fail unless the peer's count equals it")
    ap.add_argument('--reps', type=int, default=5)
    ap.add_argument('--warmup', type=int, default=1)
    a = ap.parse_args()
    threads = int(os.environ.get('PIXELLLM_THREADS', '2'))
    set_threads(threads)
    torch.manual_seed(0)
    with open(a.config) as f:
        config = json.load(f)
    model = PixelLLM(config)
    result = {'threads': threads, 'params': sum(p.numel() for p in model.parameters())}
    if a.expect_params is not None:
        assert result['params'] == a.expect_params, f"parameter count differs: ours {a.expect_params}, torch {result['params']}"
    if a.count:
        result['shapes'] = {k: list(p.shape) for k, p in model.named_parameters()}
    if a.train or a.caption:
        with open(a.batch) as f:
            raw = json.load(f)
        S = config['image_size']
    if a.train:
        model.train()
        opt = optimizer(model)
        for kind, rb in raw['batches'].items():
            batch = load_batch(rb, S)
            result[f'train_{kind}_ms'] = median_ms(lambda: train_step(model, opt, batch), a.reps, a.warmup)
    if a.caption:
        model.eval()
        pixels = torch.randn(1, 3, S, S)
        with torch.inference_mode():
            result['caption_ms'] = median_ms(lambda: caption(model, pixels, raw['caption']['prompt'], raw['caption']['new_tokens']), a.reps, a.warmup)
    result['peak_rss_mb'] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
    print(json.dumps(result))


if __name__ == '__main__':
    main()
