"""Copy one ONNX variant of a trained model folder into the folder the repository ships.

    models/.venv/bin/python models/ship_model.py models/build/train-news/gliner-news-minilm-l6 \
        --to models/gliner-news-minilm-l6 --variant factored_int8 --reason "..."

``models/train.sh`` writes every variant (fp32 135 MB, int8, factored, factored int8); the repository
carries one, chosen by ``npm run eval`` (the smallest whose F1 is within 1 point of fp32). This
script makes that step a command instead of a hand copy:

- the config, tokenizer files and training records (``training/``) come from the trained folder;
- the model card (``README.md``) of the target folder is kept (``train.sh`` copies it the other way);
- ``onnx/`` holds the chosen file alone (other ``.onnx`` files of the target are removed);
- ``BUILD_INFO.json`` keeps the export's record, lists the shipped files with their sha256 and the
  variants left out under ``not_shipped``, with the reason given.

It only copies files: no Python package of the reference stack is needed.
"""

from __future__ import annotations

import argparse
import json
import shutil
from pathlib import Path

from gliner_tools.env import TOKENIZER_FILES
from gliner_tools.model_folder import VARIANT_FILES, sha256_file, write_build_info

COPIED = ("gliner_config.json", *TOKENIZER_FILES)
"""What a model folder holds besides ``onnx/``, ``training/``, the card and ``BUILD_INFO.json``."""


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("src", type=Path, help="trained model folder (models/train.sh output)")
    parser.add_argument("--to", type=Path, required=True, help="the shipped folder (its README.md is kept)")
    parser.add_argument("--variant", choices=sorted(VARIANT_FILES), required=True)
    parser.add_argument("--reason", required=True, help="why this variant (recorded in BUILD_INFO.json)")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    src: Path = args.src
    dst: Path = args.to
    chosen = f"onnx/{VARIANT_FILES[args.variant]}"
    info_path = src / "BUILD_INFO.json"
    if not (src / chosen).is_file() or not info_path.is_file():
        raise SystemExit(f"[ship] {src} lacks {chosen} or BUILD_INFO.json (run models/train.sh first)")
    info = json.loads(info_path.read_text(encoding="utf-8"))
    (dst / "onnx").mkdir(parents=True, exist_ok=True)

    for name in COPIED:
        if (src / name).is_file():
            shutil.copyfile(src / name, dst / name)
    if (src / "training").is_dir():
        shutil.rmtree(dst / "training", ignore_errors=True)
        shutil.copytree(src / "training", dst / "training")
    for old in (dst / "onnx").glob("*.onnx"):
        old.unlink()
    shutil.copyfile(src / chosen, dst / chosen)

    not_shipped = {}
    for path in sorted((src / "onnx").glob("*.onnx")):
        rel = path.relative_to(src).as_posix()
        if rel != chosen:
            not_shipped[rel] = {"bytes": path.stat().st_size, "sha256": sha256_file(path)}
    info.pop("files", None)
    info["shipped_variant"] = args.variant
    info["not_shipped"] = not_shipped
    info["not_shipped_reason"] = args.reason
    # The card is edited by hand; its hash would only go stale.
    written = write_build_info(dst, info, skip=["README.md"])
    for name, entry in json.loads(written.read_text(encoding="utf-8"))["files"].items():
        print(f"[ship] {name}: {entry.get('bytes', 0):,} bytes  sha256 {entry['sha256']}")
    print(f"[ship] {dst}: {chosen} shipped; not shipped: {', '.join(not_shipped) or 'none'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
