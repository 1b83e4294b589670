"""Reference values for test/trace_targets.test.ts: Localized Narratives per-utterance and per-token targets computed
the way PixelLLM does (scenic/projects/pixel_llm: tools/build_ln_tfrecord.py trace2coord with scipy and numpy, and
io/ops.py DecodeLocalizedNarrativesAnnotations, its TensorFlow ops written here in numpy with the same dtypes:
positions in float64, stored targets in float32, rounding half to even).
Inputs: the two Localized Narratives samples in ../shared/data. Video LN narratives are put in the image schema on
the keyframe with the most trace points (times in seconds from the recording start, one utterance per word).
Tokens: a stand-in tokenizer, one id per whitespace word (1000 + its index), BOS 101, EOS 102, pad 0, so the test
can build the same ids without the real WordPiece tokenizer.
Run: python3 scripts/reference/make_ln_targets.py > test/data/ln_targets.json  (needs numpy and scipy)"""
import collections
import json
import numpy as np
from scipy import interpolate

DATA = "../shared/data/localized-narratives/"
BOS, EOS, PAD = 101, 102, 0
MAX_TOKENS = 24  # shorter than the longest caption, so truncation is exercised
SIZES = [(1280, 720), (333, 517)]


def utterance_targets(points, timed_caption):
    t = np.array([p["t"] for p in points])
    x = np.array([p["x"] for p in points])
    y = np.array([p["y"] for p in points])
    order = np.argsort(t, kind="stable")
    t, x, y = t[order], x[order], y[order]
    fx = interpolate.interp1d(t, x, fill_value="extrapolate")
    fy = interpolate.interp1d(t, y, fill_value="extrapolate")
    out = []
    for u in timed_caption:
        ts = np.linspace(u["start_time"], u["end_time"], num=16)
        xs, ys = fx(ts), fy(ts)
        span = ts[-1] - ts[0]
        if span < 1e-5:
            cx, cy = np.mean(xs), np.mean(ys)
        else:
            cx, cy = np.trapezoid(xs, ts) / span, np.trapezoid(ys, ts) / span
        out.append({"utterance": u["utterance"], "box": [float(xs.min()), float(ys.min()), float(xs.max()), float(ys.max())],
                    "center": [float(cx), float(cy)]})
    return out


def token_targets(tokens, utterances, width, height):
    tokens = np.array(tokens)
    center = np.array([u["center"] for u in utterances], dtype=np.float32)
    bbox = np.array([u["box"] for u in utterances], dtype=np.float32)
    valid_utt = np.array([len(u["utterance"].strip()) > 0 for u in utterances]) & np.all(center > np.float32(1e-5), axis=-1)
    pos = np.cumsum(valid_utt) / valid_utt.sum()
    pos = np.where(valid_utt, pos, -1.0)
    start, end = pos[pos > 0].min(), pos[pos > 0].max()
    valid_tok = (tokens != PAD) & (tokens != BOS) & (tokens != EOS)
    tpos = np.cumsum(valid_tok) / valid_tok.sum()
    tpos = start + tpos * (end - start)
    idx = np.argmin((tpos[:, None] - pos[None, :]) ** 2, axis=-1)
    boxes = bbox[idx] * valid_tok[:, None].astype(np.float32)
    boxes = np.clip(boxes, np.float32(0), np.float32(1))
    boxes = np.round(boxes * np.array([width, height, width, height], dtype=np.float32))
    return boxes.astype(np.float64).tolist(), np.where(valid_tok, idx, -1).tolist()


def from_video(record):
    out = []
    for actor in record["actor_narratives"]:
        start = actor["recording_start_time_ms_since_epoch"]
        counts = collections.Counter(p["kf_idx"] for seg in actor["traces"] for p in seg)
        order = list(actor.get("keyframe_selection_indices", [])) + sorted(counts)
        kf = order[0]
        for k in order:
            if counts[k] > counts[kf]:
                kf = k
        points = [{"x": p["x"], "y": p["y"], "t": (p["time_ms_since_epoch"] - start) / 1000}
                  for seg in actor["traces"] for p in seg if p["kf_idx"] == kf]
        words = [{"utterance": w["referenced_word"], "start_time": w["start_ms"] / 1000, "end_time": w["end_ms"] / 1000}
                 for w in actor["time_alignment"]]
        out.append({"image_id": f"{record['video_id']}/{record['keyframe_names'][kf]}", "caption": actor["caption"],
                    "points": points, "timed_caption": words})
    return out


def case(image_id, caption, points, timed_caption):
    utts = utterance_targets(points, timed_caption)
    ids = [1000 + i for i, _ in enumerate(caption.split())]
    tokens = ([BOS] + ids + [EOS])[:MAX_TOKENS]
    tokens += [PAD] * (MAX_TOKENS - len(tokens))
    per_size = []
    for w, h in SIZES:
        boxes, which = token_targets(tokens, utts, w, h)
        per_size.append({"width": w, "height": h, "boxes": boxes, "utterance": which})
    return {"image_id": image_id, "utterances": utts, "tokens": tokens, "targets": per_size}


image = []
for line in open(DATA + "derived_image_ln_style.jsonl"):
    r = json.loads(line)
    image.append(case(r["image_id"], r["caption"], [p for seg in r["traces"] for p in seg], r["timed_caption"]))
video = []
for line in open(DATA + "vidln_sample_combined.jsonl"):
    for n in from_video(json.loads(line)):
        video.append(case(n["image_id"], n["caption"], n["points"], n["timed_caption"]))
print(json.dumps({"bos": BOS, "eos": EOS, "pad": PAD, "max_tokens": MAX_TOKENS, "image": image, "video": video}))
