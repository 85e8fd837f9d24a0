#!/usr/bin/env bash
# Rebuild every committed GLiNER test fixture with one command:
#   - test/fixtures/models/tiny-span  (span/markerV0, fp32 + dynamic int8, and both again with the span
#     head factored: model_factored.onnx, model_factored_int8.onnx) and tiny-token (token_level, fp32),
#     tokenizer files relative-symlinked to test/fixtures/tokenizer/
#   - test/fixtures/models/tiny-span-relex (native relation model, relations_layer "none", fp32; its own
#     tokenizer with <<REL>>), exported by gliner_tools/relex_export.py; its PyTorch checkpoint goes to
#     models/build/tiny-span-relex-torch (not committed) for the golden below
#   - test/fixtures/parity/cases.jsonl
#   - test/fixtures/parity/golden-tiny-span.jsonl, golden-tiny-token.jsonl (case batch sizes) and
#     golden-tiny-span-int8.jsonl (model_int8.onnx, every case at batch size 1; the factored span head's
#     model_factored_int8.onnx likewise in golden-tiny-span-factored-int8.jsonl; AVX2_GOLDEN=1 also
#     golden-tiny-span-int8-avx2.jsonl under qemu, ~6 min); golden-relex-tiny-span.jsonl (the reference's
#     PyTorch inference steps on relex-cases.jsonl)
# Needs models/.venv (models/setup.sh); runs offline.  SEED overrides the weight seed (default 20240601).
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
cd "$ROOT"
PY=models/.venv/bin/python
SEED="${SEED:-20240601}"
MODELS=test/fixtures/models
PARITY=test/fixtures/parity

$PY models/build_random_model.py --preset tiny-span --out "$MODELS/tiny-span" --variants fp32,int8,factored,factored_int8 \
  --seed "$SEED" --tokenizer test/fixtures/tokenizer --tokenizer-mode symlink
$PY models/build_random_model.py --preset tiny-token --out "$MODELS/tiny-token" --variants fp32 \
  --seed "$SEED" --tokenizer test/fixtures/tokenizer --tokenizer-mode symlink
$PY models/build_random_model.py --preset tiny-span-relex --out "$MODELS/tiny-span-relex" --variants fp32 \
  --seed "$SEED" --save-checkpoint models/build/tiny-span-relex-torch

$PY models/make_cases.py --out "$PARITY/cases.jsonl"

$PY models/golden.py --model "$MODELS/tiny-span" --cases "$PARITY/cases.jsonl" \
  --out "$PARITY/golden-tiny-span.jsonl" --torch-check
$PY models/golden.py --model "$MODELS/tiny-token" --cases "$PARITY/cases.jsonl" \
  --out "$PARITY/golden-tiny-token.jsonl" --torch-check
$PY models/golden.py --model "$MODELS/tiny-span" --variant model_int8.onnx --batch-size-override 1 \
  --cases "$PARITY/cases.jsonl" --out "$PARITY/golden-tiny-span-int8.jsonl"
$PY models/golden.py --model "$MODELS/tiny-span" --variant model_factored_int8.onnx --batch-size-override 1 \
  --cases "$PARITY/cases.jsonl" --out "$PARITY/golden-tiny-span-factored-int8.jsonl"
$PY models/golden_relex.py --model "$MODELS/tiny-span-relex" --checkpoint models/build/tiny-span-relex-torch \
  --cases "$PARITY/relex-cases.jsonl" --out "$PARITY/golden-relex-tiny-span.jsonl"

# int8 kernels differ by CPU family (test/helpers/cpu-family.ts): the golden above is this CPU's
# family (the committed one was made on AVX-512 VNNI). The AVX2 golden (entities only) is made
# under an emulated Haswell (apt install qemu-user), which MLAS sees as AVX2 without AVX-512:
if [ "${AVX2_GOLDEN:-0}" = 1 ]; then
  qemu-x86_64 -cpu Haswell $PY models/golden.py --model "$MODELS/tiny-span" --variant model_int8.onnx \
    --batch-size-override 1 --entities-only --cpu-family avx2 \
    --cases "$PARITY/cases.jsonl" --out "$PARITY/golden-tiny-span-int8-avx2.jsonl"
  # The shipped trained model's int8 golden for AVX2 (~40 min under qemu on 2 cores).
  qemu-x86_64 -cpu Haswell $PY models/golden.py --model models/gliner-news-minilm-l6 --variant model_int8.onnx \
    --batch-size-override 1 --entities-only --cpu-family avx2 \
    --cases "$PARITY/cases.jsonl" --out "$PARITY/golden-news-minilm-int8-avx2.jsonl"
fi

ls -l "$MODELS"/*/onnx/*.onnx "$PARITY"/*.jsonl
