#!/usr/bin/env python3
"""Export a trained GLiNER checkpoint (local folder or hub id) to an ONNX model folder.

Why: ``EmergentMethods/gliner_medium_news-v2.1`` publishes only a PyTorch
checkpoint; this writes the same folder layout as the onnx-community exports
and as ``build_random_model.py`` (gliner_config.json, tokenizer files,
onnx/model.onnx and the requested variants), using gliner's own exporter.

Examples::

    models/.venv/bin/python models/export_onnx.py EmergentMethods/gliner_medium_news-v2.1 \\
        --out models/gliner_medium_news-v2.1-onnx --variants fp32,int8,fp16
    models/.venv/bin/python models/export_onnx.py path/to/checkpoint --out /tmp/out

A hub id needs network access; a local folder is loaded offline.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from gliner_tools import env  # noqa: E402


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("src", help="GLiNER checkpoint folder or Hugging Face hub id")
    parser.add_argument("--out", type=Path, required=True, help="output model folder")
    parser.add_argument("--variants", default="fp32,int8",
                        help="comma list of fp32,int8,uint8,fp16,opt,opt_int8,factored,factored_int8 (default fp32,int8; "
                             "opt = offline-optimised graph, BERT-family only; factored = the markerV0 span head "
                             "factored, span models only)")
    parser.add_argument("--revision", help="hub revision (commit, tag or branch) to export")
    parser.add_argument("--tokenizer", type=Path,
                        help="copy the tokenizer files verbatim from this folder (e.g. test/fixtures/tokenizer) "
                             "instead of the checkpoint's own files or a transformers re-save")
    parser.add_argument("--no-verify", action="store_true", help="skip running the variants after export")
    parser.add_argument("--int8-per-channel", action="store_true",
                        help="int8/uint8 with one scale per output channel (default: per tensor, as the "
                             "published onnx-community exports)")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    local = Path(args.src).is_dir()
    env.configure(offline=local)

    from gliner import GLiNER

    from gliner_tools import construct, model_folder, pipeline

    variants = pipeline.parse_variants(args.variants)
    started = time.perf_counter()
    model = GLiNER.from_pretrained(args.src, revision=args.revision, local_files_only=local, load_tokenizer=True)
    model.eval()
    print(f"[export] loaded {args.src}: {type(model).__name__}, {construct.count_parameters(model):,} parameters")

    # Tokenizer files: an explicit folder, else the checkpoint's own files (verbatim), else what
    # gliner's export re-saved with transformers (checkpoints that rely on model_name's tokenizer).
    tokenizer_source = args.tokenizer
    if tokenizer_source is None and local and (Path(args.src) / "tokenizer.json").is_file():
        tokenizer_source = Path(args.src)
    if tokenizer_source is not None:
        construct.check_tokenizer(construct.load_tokenizer(tokenizer_source), vars(model.config))
    out_dir = args.out.resolve()
    report = pipeline.write_folder(model, out_dir, variants, tokenizer_source, "copy", verify=not args.no_verify,
                                  int8_per_channel=args.int8_per_channel)
    info = {
        "kind": "export",
        "source": args.src,
        "revision": args.revision,
        "parameters": construct.count_parameters(model),
        "versions": env.package_versions(),
        **report,
    }
    model_folder.write_build_info(out_dir, info)
    if "verification" in report:
        print(f"[export] verification: {report['verification']}")
    for name, entry in model_folder.describe_files(out_dir).items():
        print(f"[export] {name}: {entry.get('bytes', 0):,} bytes  sha256 {entry['sha256']}")
    print(f"[export] done in {time.perf_counter() - started:.1f}s -> {out_dir}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
