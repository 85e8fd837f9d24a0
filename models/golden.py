#!/usr/bin/env python3
"""Golden outputs from the REFERENCE implementation (gliner's ONNX path) for the parity cases.

Why: the TypeScript engine must reproduce ``GLiNER.inference`` exactly.  For
every case this records what the reference returned (entities with Python
code-point offsets) and, per reference batch, exactly what it fed ONNX Runtime
(captured by wrapping the ORT model's ``run_inference``) plus the logits it got
back, so a parity failure can be traced to preprocessing (feeds differ) or to
decoding (feeds and logits equal, entities differ).

Nothing here re-implements the reference: texts go through
``GLiNER.from_pretrained(..., load_onnx_model=True).inference(...)`` unchanged.

One JSON line per case (ASCII-only JSON)::

    {"id", "model": <folder name>, "variant": <onnx file name>, "batch_size": <as run>,
     "max_len": <config>, "word_counts": [GLiNER words per text], "truncated": <any text > max_len>,
     "entities": [[{"start", "end", "text", "label", "score"}, ...] per text],   # absent on error
     "reference_error": "<Type: message>",                                        # only on error
     "batches": [{"text_indices": [...],                 # indices into texts of this reference batch
                  "feeds": {"input_ids", "attention_mask", "words_mask", "text_lengths"},
                  "span_idx_sha256", "span_mask_sha256",  # int64 LE / uint8 0-1, C order; null for token models
                  "span_mask_dtype", "logits_shape", "logits_sha256",
                  "logits_b64"}],                        # float32 LE, null above 150,000 values
     "fallback": {"batch_size": 1, "entities", "batches"}}  # only when the case crashed at batch_size > 1

Offsets are Python code-point indices, as the reference returns them.  The
``fallback`` exists for the token-model crash (spans decoded in the padding of
a shorter text of a padded batch, then ``IndexError``): with one text per batch
there is no padding, and an engine that ignores padded positions must return
exactly these entities for any batching.

Example::

    models/.venv/bin/python models/golden.py --model test/fixtures/models/tiny-span \\
        --cases test/fixtures/parity/cases.jsonl --out test/fixtures/parity/golden-tiny-span.jsonl
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from gliner_tools import env  # noqa: E402

env.configure(offline=True)

import torch  # noqa: E402
from gliner import GLiNER  # noqa: E402
from gliner.model import BaseGLiNER  # noqa: E402

from gliner_tools import calibrate, construct, presets  # noqa: E402

MAX_LOGITS_INLINE = 150_000
"""Batches with more logit values than this store only the logits' sha256."""

RECORDED_FEEDS = ("input_ids", "attention_mask", "words_mask", "text_lengths")


class FeedRecorder:
    """Wraps the ORT model's ``run_inference`` to keep every feed dict and its logits."""

    def __init__(self, ort_model: Any) -> None:
        self.calls: list[tuple[dict[str, np.ndarray], np.ndarray]] = []
        original: Callable[[dict[str, np.ndarray]], dict[str, np.ndarray]] = ort_model.run_inference

        def recording_run_inference(inputs: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
            outputs = original(inputs)
            self.calls.append(({k: np.array(v, copy=True) for k, v in inputs.items()},
                               np.array(outputs["logits"], copy=True)))
            return outputs

        ort_model.run_inference = recording_run_inference

    def take(self) -> list[tuple[dict[str, np.ndarray], np.ndarray]]:
        calls, self.calls = self.calls, []
        return calls


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def describe_batch(text_indices: list[int], feeds: dict[str, np.ndarray], logits: np.ndarray,
                   max_inline: int = MAX_LOGITS_INLINE) -> dict[str, Any]:
    """JSON form of one reference batch: feeds, span tensor hashes, logits."""
    for name in RECORDED_FEEDS:
        if feeds[name].dtype != np.int64:
            raise TypeError(f"{name} fed as {feeds[name].dtype}, expected int64")
    span_idx, span_mask = feeds.get("span_idx"), feeds.get("span_mask")
    logits_bytes = np.ascontiguousarray(logits, dtype="<f4").tobytes()
    return {
        "text_indices": text_indices,
        "feeds": {name: feeds[name].tolist() for name in RECORDED_FEEDS},
        "span_idx_sha256": None if span_idx is None else _sha256(np.ascontiguousarray(span_idx, dtype="<i8").tobytes()),
        "span_mask_sha256": None if span_mask is None else _sha256(
            np.ascontiguousarray(span_mask.astype(np.uint8)).tobytes()),
        "span_mask_dtype": None if span_mask is None else str(span_mask.dtype),
        "logits_shape": list(logits.shape),
        "logits_sha256": _sha256(logits_bytes),
        "logits_b64": base64.b64encode(logits_bytes).decode("ascii") if logits.size <= max_inline else None,
    }


def reference_batches(model: BaseGLiNER, texts: list[str], batch_size: int) -> list[list[int]]:
    """Indices (into ``texts``) of the texts in each reference batch: non-empty texts, in order."""
    _, valid_to_orig = model._filter_valid_texts(texts)
    return [valid_to_orig[i:i + batch_size] for i in range(0, len(valid_to_orig), batch_size)]


class TorchCheck:
    """Runs the captured feeds through the torch model rebuilt from BUILD_INFO.json (preset + seed)."""

    def __init__(self, model_dir: Path) -> None:
        info = json.loads((model_dir / "BUILD_INFO.json").read_text(encoding="utf-8"))
        preset = presets.PRESETS[info["preset"]]
        self.model = construct.build_random(preset, construct.load_tokenizer(model_dir), info["seed"])
        calibrate.calibrate(self.model, preset.calibration)
        self.max_diff = 0.0
        self.case_max = 0.0

    def compare(self, feeds: dict[str, np.ndarray], logits: np.ndarray) -> float:
        with torch.no_grad():
            out = self.model.model(**{k: torch.from_numpy(v) for k, v in feeds.items()}).logits.numpy()
        diff = float(np.abs(out - logits).max()) if logits.size else 0.0
        self.max_diff = max(self.max_diff, diff)
        self.case_max = max(self.case_max, diff)
        return diff


def run_case(model: BaseGLiNER, recorder: FeedRecorder, item: dict[str, Any], batch_size: int,
             torch_check: TorchCheck | None, max_inline: int = MAX_LOGITS_INLINE) -> dict[str, Any]:
    texts, labels = item["texts"], item["labels"]
    splitter = model.data_processor.words_splitter
    word_counts = [sum(1 for _ in splitter(t)) for t in texts]
    result: dict[str, Any] = {
        "id": item["id"],
        "batch_size": batch_size,
        "max_len": model.config.max_len,
        "word_counts": word_counts,
        "truncated": any(n > model.config.max_len for n in word_counts),
    }
    recorder.take()
    error = None
    try:
        entities = model.inference(texts, labels, flat_ner=item["flat_ner"], threshold=item["threshold"],
                                   multi_label=item["multi_label"], batch_size=batch_size)
        result["entities"] = [[{k: e[k] for k in ("start", "end", "text", "label", "score")} for e in per_text]
                              for per_text in entities]
    except Exception as exc:  # the reference itself failed: record it, do not invent entities
        error = f"{type(exc).__name__}: {exc}"
        result["reference_error"] = error  # and no "entities" key
    calls = recorder.take()
    batches = reference_batches(model, texts, batch_size)
    if error is None and len(calls) != len(batches):
        raise RuntimeError(f"{item['id']}: {len(calls)} ORT calls for {len(batches)} batches")
    result["batches"] = []
    for indices, (feeds, logits) in zip(batches, calls, strict=False):  # fewer calls if it crashed
        result["batches"].append(describe_batch(indices, feeds, logits, max_inline))
        if torch_check is not None:
            torch_check.compare(feeds, logits)
    if error is not None and batch_size > 1:
        # Known reference bug (token models): a padded batch can decode spans in the padding of a
        # shorter text and then IndexError while mapping them to characters.  Run the same case one
        # text per batch, which has no padding; a correct engine must return exactly this.
        fallback = run_case(model, recorder, item, 1, torch_check, max_inline)
        result["fallback"] = {k: fallback[k] for k in ("batch_size", "entities", "batches", "reference_error")
                              if k in fallback}
    return result


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", type=Path, required=True, help="model folder (gliner_config.json, tokenizer, onnx/)")
    parser.add_argument("--variant", default="model.onnx", help="ONNX file under onnx/ (default model.onnx)")
    parser.add_argument("--cases", type=Path, required=True, help="cases.jsonl")
    parser.add_argument("--out", type=Path, required=True, help="golden JSON Lines to write")
    parser.add_argument("--batch-size-override", type=int, help="run every case with this batch size")
    parser.add_argument("--torch-check", action="store_true",
                        help="self-check: also run the captured feeds through the torch model rebuilt from "
                             "BUILD_INFO.json (preset + seed) and print the max |logit diff| (not stored)")
    parser.add_argument("--entities-only", action="store_true",
                        help="write entities without the per-batch feeds and logits (per-CPU int8 goldens, "
                             "where the feeds are already proven by the fp32 golden)")
    parser.add_argument("--max-logits-inline", type=int, default=MAX_LOGITS_INLINE,
                        help="store the logits of batches up to this many values (larger: sha256 only)")
    parser.add_argument("--cpu-family", help="record the int8 kernel family the golden was made with "
                                             "(e.g. avx512vnni, avx2); see test/helpers/cpu-family.ts")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    model_dir = args.model.resolve()
    variant = args.variant if "/" in args.variant else f"onnx/{args.variant}"
    model = GLiNER.from_pretrained(str(model_dir), load_onnx_model=True, onnx_model_file=variant,
                                   load_tokenizer=True, local_files_only=True)
    recorder = FeedRecorder(model.model)
    torch_check = TorchCheck(model_dir) if args.torch_check else None
    cases = [json.loads(line) for line in args.cases.read_text(encoding="utf-8").splitlines() if line.strip()]

    args.out.parent.mkdir(parents=True, exist_ok=True)
    total_entities, errors = 0, []
    with open(args.out, "w", encoding="ascii", newline="\n") as handle:
        for item in cases:
            batch_size = args.batch_size_override or item["batch_size"]
            result = run_case(model, recorder, item, batch_size, torch_check, args.max_logits_inline)
            line = {"id": result.pop("id"), "model": model_dir.name, "variant": Path(variant).name, **result}
            if args.entities_only:
                line.pop("batches", None)
                line.get("fallback", {}).pop("batches", None)
            if args.cpu_family:
                line["cpu_family"] = args.cpu_family
            handle.write(json.dumps(line, ensure_ascii=True) + "\n")
            counts = [len(e) for e in line["entities"]] if "entities" in line else None
            total_entities += sum(counts or [])
            fallback = line.get("fallback", {}).get("entities")
            if fallback is not None:
                print(f"[golden] {line['id']}: fallback at batch size 1: entities {[len(e) for e in fallback]}")
            if "reference_error" in line:
                errors.append(line["id"])
            note = f"  REFERENCE ERROR: {line['reference_error']}" if "reference_error" in line else ""
            if torch_check is not None:
                note += f"  torch max|diff| {torch_check.case_max:.2g}"
                torch_check.case_max = 0.0
            print(f"[golden] {line['id']}: entities {counts}{' (truncated)' if line['truncated'] else ''}{note}")
    print(f"[golden] {len(cases)} cases, {total_entities} entities, {len(errors)} reference errors -> {args.out}")
    if torch_check is not None:
        print(f"[golden] torch vs ORT ({Path(variant).name}) max |logit diff| over all batches: "
              f"{torch_check.max_diff:.3g}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
