#!/bin/bash
# Scores the bundled pixelllm-tiny on the synthetic test split, one `pixelllm eval` per metric (README table).
# Needs the synthetic set:  node bin/pixelllm.mjs synth --out data/synth --n 6000 --seed 0
# Usage: bash scripts/eval-tiny.sh [MODEL_DIR] [OUT_DIR]   (defaults: models/pixelllm-tiny, eval/pixelllm-tiny)
set -euo pipefail
MODEL=${1:-models/pixelllm-tiny}
OUT=${2:-eval/pixelllm-tiny}
D=data/synth
mkdir -p "$OUT"
run() { echo "+ pixelllm eval $*" >&2; node bin/pixelllm.mjs eval "$@"; }
run --task refer     --model "$MODEL" --gt "$D/refcoco/refs(synth).p" --split test --images $D/images --limit 1000 --out "$OUT/refer"
run --task refseg    --model "$MODEL" --gt "$D/refcoco/refs(synth).p" --split test --images $D/images --limit 500 --out "$OUT/refseg"
run --task regioncap --model "$MODEL" --gt $D/visual_genome/region_descriptions.json --split test --images $D/images --limit 1000 --out "$OUT/regioncap"
run --task caption   --model "$MODEL" --gt $D/localized_narratives/test.jsonl --images $D/images --limit 200 --out "$OUT/caption"
run --task trace     --model "$MODEL" --gt $D/localized_narratives/test.jsonl --images $D/images --limit 200 --out "$OUT/trace"
run --task densecap  --model "$MODEL" --gt $D/visual_genome/region_descriptions.json --split test --images $D/images --limit 100 --out "$OUT/densecap"
