"""Reference values for test/mask.test.ts, made with pycocotools (the COCO toolkit's mask API).
Run: python3 scripts/reference/make_mask_cases.py > test/data/mask_cases.json  (needs numpy and pycocotools)"""
import json, random
import numpy as np
from pycocotools import mask as M

cases = {"polygons": [], "bitmaps": [], "coco": []}
rng = random.Random(7)
for i in range(12):
    h, w = rng.randint(5, 40), rng.randint(5, 40)
    polys = [[round(rng.uniform(-2, w + 2), 2) for _ in range(2 * rng.randint(3, 7))] for _ in range(rng.randint(1, 3))]
    rles = M.frPyObjects(polys, h, w)
    merged = M.merge(rles)
    cases["polygons"].append({"h": h, "w": w, "polygons": polys,
                              "each": [r["counts"].decode() for r in rles],
                              "merged": merged["counts"].decode(), "area": int(M.area(merged)),
                              "bbox": M.toBbox(merged).tolist()})
for i in range(8):
    h, w = rng.randint(1, 30), rng.randint(1, 30)
    bm = (np.random.RandomState(i).rand(h, w) > rng.uniform(0.2, 0.8)).astype(np.uint8)
    r = M.encode(np.asfortranarray(bm))
    other = M.encode(np.asfortranarray((np.random.RandomState(100 + i).rand(h, w) > 0.5).astype(np.uint8)))
    cases["bitmaps"].append({"h": h, "w": w, "rows": bm.tolist(), "counts": r["counts"].decode(),
                             "other": other["counts"].decode(), "area": int(M.area(r)), "bbox": M.toBbox(r).tolist(),
                             "iou": float(M.iou([r], [other], [0])[0][0])})
inst = json.load(open("../shared/data/coco-mini/annotations/instances_val2017.json"))
imgs = {im["id"]: im for im in inst["images"]}
anns = [a for a in inst["annotations"] if a["iscrowd"]][:4] + [a for a in inst["annotations"] if not a["iscrowd"]][:40]
for a in anns:
    im = imgs[a["image_id"]]
    h, w = im["height"], im["width"]
    seg = a["segmentation"]
    rle = M.merge(M.frPyObjects(seg, h, w)) if isinstance(seg, list) else (M.frPyObjects(seg, h, w) if isinstance(seg["counts"], list) else seg)
    cases["coco"].append({"id": a["id"], "image_id": a["image_id"], "counts": rle["counts"].decode() if isinstance(rle["counts"], bytes) else rle["counts"],
                          "area": int(M.area(rle)), "bbox": M.toBbox(rle).tolist()})
print(json.dumps(cases))
