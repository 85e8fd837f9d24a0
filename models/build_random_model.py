#!/usr/bin/env python3
"""Build a GLiNER of a real architecture with seeded random weights, offline, as an ONNX model folder.

Why: tests and benchmarks need models with the exact I/O, vocabulary and
(for ``medium``) the size of the published GLiNER exports, without network
access and without shipping 800 MB of real weights.  The scoring heads are
calibrated (see ``gliner_tools/calibrate.py``) so the random model finds a
handful of entities per paragraph instead of every span at p = 0.5.

Example::

    models/.venv/bin/python models/build_random_model.py --preset tiny-span \\
        --out test/fixtures/models/tiny-span --variants fp32,int8 --tokenizer-mode symlink
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from gliner_tools import env  # noqa: E402

env.configure(offline=True)

from gliner_tools import calibrate, construct, model_folder, pipeline, presets, sanity  # noqa: E402

DEFAULT_SEED = 20240601


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--preset", required=True, choices=sorted(presets.PRESETS))
    parser.add_argument("--out", type=Path, help="output folder (default: the preset's folder under models/build/)")
    parser.add_argument("--variants", default="fp32,int8",
                        help="comma list of variants (models/gliner_tools/onnx_export.py VARIANT_FILES; default fp32,int8)")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED,
                        help=f"torch seed for the weights (default {DEFAULT_SEED})")
    parser.add_argument("--tokenizer", type=Path, default=env.FIXTURE_TOKENIZER_DIR,
                        help="local DeBERTa-v3 GLiNER tokenizer folder (default test/fixtures/tokenizer)")
    parser.add_argument("--tokenizer-mode", choices=("copy", "symlink"), default="copy",
                        help="copy the tokenizer files or relative-symlink them (fixtures use symlink)")
    parser.add_argument("--no-verify", action="store_true", help="skip running the variants after export")
    parser.add_argument("--save-checkpoint", type=Path,
                        help="also save the PyTorch checkpoint (gliner save_pretrained) to this folder, "
                             "e.g. to test export_onnx.py offline")
    return parser.parse_args(argv)


def _display_path(path: Path) -> str:
    try:
        return path.resolve().relative_to(env.REPO_ROOT).as_posix()
    except ValueError:
        return str(path)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    preset = presets.PRESETS[args.preset]
    out_dir = (args.out or env.REPO_ROOT / preset.default_out).resolve()
    variants = pipeline.parse_variants(args.variants)
    started = time.perf_counter()

    tokenizer = construct.load_tokenizer(args.tokenizer)
    model = construct.build_random(preset, tokenizer, args.seed)
    params = construct.count_parameters(model)
    if preset.expected_params is not None and params != preset.expected_params:
        raise SystemExit(f"{preset.name}: {params} parameters, expected {preset.expected_params}")
    calibration = calibrate.calibrate(model, preset.calibration)
    built = time.perf_counter()
    summary = sanity.prediction_summary(model)
    print(f"[build] {preset.name}: {params:,} parameters, seed {args.seed}, built+calibrated in {built - started:.1f}s")
    after = calibration["after"]
    print(f"[build] calibration logits after: mean {after['mean']:.3f} std {after['std']:.3f}")
    print(f"[build] sanity @0.5: entities per text {summary['entities_per_text']}, labels {summary['labels']}")

    if args.save_checkpoint:
        model.save_pretrained(args.save_checkpoint)
        print(f"[build] PyTorch checkpoint -> {args.save_checkpoint}")

    # A preset that adds tokens (<<REL>>) keeps the tokenizer its export saved: the source folder lacks them.
    tokenizer_source = None if preset.extra_tokens else args.tokenizer
    report = pipeline.write_folder(model, out_dir, variants, tokenizer_source, args.tokenizer_mode,
                                   verify=not args.no_verify)
    exported = time.perf_counter()
    if "verification" in report:
        print(f"[build] verification: {json.dumps(report['verification'], default=str)}")

    command = ["models/build_random_model.py", "--preset", preset.name, "--out", _display_path(out_dir),
               "--variants", ",".join(variants), "--seed", str(args.seed),
               "--tokenizer", _display_path(args.tokenizer), "--tokenizer-mode", args.tokenizer_mode]
    info = {
        "kind": "random-weights",
        "preset": preset.name,
        "description": preset.description,
        "seed": args.seed,
        "command": " ".join(command),
        "parameters": params,
        "versions": env.package_versions(),
        "calibration": calibration,
        "sanity": summary,
        **report,
    }
    model_folder.write_build_info(out_dir, info)
    for name, entry in model_folder.describe_files(out_dir).items():
        size = entry.get("bytes")
        print(f"[build] {name}: {'-> ' + entry['symlink'] if 'symlink' in entry else f'{size:,} bytes'}")
    print(f"[build] done in {exported - started:.1f}s (export+variants {exported - built:.1f}s) -> {out_dir}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
