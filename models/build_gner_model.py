"""Build a random-weight GNER model (T5 of the flan-t5 architecture) as optimum exports it.

GNER (yyDing1/GNER) fine-tunes flan-t5 to rewrite a sentence as ``word(B-label) word(O) …``.
No checkpoint can be downloaded here, so this builds the architecture with seeded random
weights, offline, for the engine's parity tests (``tiny-gner``, committed under
``test/fixtures/models/``) and speed measurements (``base-gner``: flan-t5-base sizes, written
to ``models/build/``):

1. a SentencePiece unigram vocabulary trained on the repository's own news samples
   (``samples/*.jsonl``) plus GNER's instruction and tag strings, with T5's special ids
   (pad 0, ``</s>`` 1, ``<unk>`` 2) and 100 ``<extra_id_N>`` sentinels, saved as
   ``T5TokenizerFast`` (``tokenizer.json`` + ``spiece.model``);
2. ``T5ForConditionalGeneration`` from a flan-t5 style config (gated-gelu feed-forward,
   untied embeddings, relative attention buckets), weights drawn with ``torch.manual_seed``;
3. ``optimum``'s ONNX export (task ``text2text-generation-with-past``) into ``onnx/``:
   ``encoder_model.onnx`` and ``decoder_model_merged.onnx`` (the files transformers.js loads),
   checked against PyTorch's greedy ``generate``.

    models/.venv/bin/python models/build_gner_model.py --preset tiny-gner --out test/fixtures/models/tiny-gner
    models/.venv/bin/python models/build_gner_model.py --preset base-gner   # -> models/build/gner-t5-base-random/
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

from gliner_tools.env import MODELS_DIR, REPO_ROOT, configure, package_versions
from gliner_tools.model_folder import sha256_file

# GNER's instruction (configs/instruction_configs/instruction.json of yyDing1/GNER): the prompt
# the TypeScript backend builds starts with it, so the vocabulary should cover it.
GNER_INSTRUCTION = (
    "Please analyze the sentence provided, identifying the type of entity for each word on a token-by-token basis.\n"
    "Output format is: word_1(label_1), word_2(label_2), ...\n"
    "We'll use the BIO-format to label the entities, where:\n"
    "1. B- (Begin) indicates the start of a named entity.\n"
    "2. I- (Inside) is used for words within a named entity but are not the first word.\n"
    "3. O (Outside) denotes words that are not part of a named entity.\n"
)

PRESETS: dict[str, dict] = {
    # Small enough to commit (~1 MB of ONNX), the real layer types and file layout.
    "tiny-gner": {
        "vocab": 1500, "d_model": 64, "d_ff": 128, "d_kv": 16, "num_heads": 4,
        "num_layers": 2, "num_decoder_layers": 2, "out": None,
    },
    # flan-t5-base sizes (d_model 768, 12+12 layers, 12 heads, d_ff 2048, vocabulary 32,128):
    # what a GNER-T5-base costs per generated token.
    # Its vocabulary is a 32,000-piece English unigram vocabulary cut from the DeBERTa-v3 SentencePiece
    # model in test/fixtures/tokenizer (the pieces of highest score, byte fallback kept), so words split
    # into about as many tokens as flan-t5's 32k vocabulary would give; the embedding and LM head have
    # flan-t5's 32,128 rows, so the per-token cost is the real one.
    "base-gner": {
        "vocab": 32000, "vocab_from": "deberta-v3", "d_model": 768, "d_ff": 2048, "d_kv": 64, "num_heads": 12,
        "num_layers": 12, "num_decoder_layers": 12, "vocab_size": 32128,
        "out": MODELS_DIR / "build" / "gner-t5-base-random",
    },
}

EXTRA_IDS = 100


def corpus_lines() -> list[str]:
    """The vocabulary's training text: committed news samples, GNER's instruction and tag strings."""
    lines: list[str] = []
    for path in sorted((REPO_ROOT / "samples").glob("*.jsonl")):
        for raw in path.read_text(encoding="utf-8").split("\n"):
            if not raw.strip():
                continue
            try:
                record = json.loads(raw)
            except json.JSONDecodeError:
                continue  # news.jsonl holds deliberately broken lines for the demo's dead-letter path
            if not isinstance(record, dict):
                continue
            for field in ("title", "body"):
                text = record.get(field)
                if isinstance(text, str):
                    lines.extend(line for line in text.split("\n") if line.strip())
    lines.extend(GNER_INSTRUCTION.split("\n"))
    tags = ["person", "organization", "location", "date", "event", "product", "misc"]
    for tag in tags:
        lines.append(f"Use the specific entity tags: {', '.join(tags)} and O.")
        lines.append(f"John(B-{tag}) Smith(I-{tag}) said(O) on(O) Monday(B-{tag}) .(O)")
    return lines


def cut_deberta_vocab(target: Path, size: int) -> None:
    """A T5-style SentencePiece model from DeBERTa-v3's: ids 0/1/2 = pad/</s>/<unk>, its 256 byte
    pieces, then its normal pieces by descending score up to ``size``."""
    from sentencepiece import sentencepiece_model_pb2 as pb

    from gliner_tools.env import FIXTURE_TOKENIZER_DIR

    source = pb.ModelProto()
    source.ParseFromString((FIXTURE_TOKENIZER_DIR / "spm.model").read_bytes())
    out = pb.ModelProto()
    out.CopyFrom(source)
    del out.pieces[:]
    for name, kind in (("<pad>", pb.ModelProto.SentencePiece.CONTROL), ("</s>", pb.ModelProto.SentencePiece.CONTROL),
                       ("<unk>", pb.ModelProto.SentencePiece.UNKNOWN)):
        piece = out.pieces.add()
        piece.piece, piece.score, piece.type = name, 0.0, kind
    out.pieces.extend(p for p in source.pieces if p.type == pb.ModelProto.SentencePiece.BYTE)
    normal = sorted((p for p in source.pieces if p.type == pb.ModelProto.SentencePiece.NORMAL), key=lambda p: -p.score)
    out.pieces.extend(normal[: size - len(out.pieces)])
    spec = out.trainer_spec
    spec.vocab_size, spec.pad_id, spec.eos_id, spec.unk_id, spec.bos_id = len(out.pieces), 0, 1, 2, -1
    spec.pad_piece, spec.eos_piece, spec.unk_piece = "<pad>", "</s>", "<unk>"
    target.write_bytes(out.SerializeToString())


def build_tokenizer(out_dir: Path, vocab: int, vocab_from: str | None = None):
    import sentencepiece as spm
    from transformers import T5TokenizerFast

    if vocab_from == "deberta-v3":
        with tempfile.TemporaryDirectory() as tmp:
            model_file = Path(tmp) / "spiece.model"
            cut_deberta_vocab(model_file, vocab)
            tokenizer = T5TokenizerFast(vocab_file=str(model_file), extra_ids=EXTRA_IDS, model_max_length=640)
            tokenizer.save_pretrained(out_dir)
        return tokenizer

    with tempfile.TemporaryDirectory() as tmp:
        corpus = Path(tmp) / "corpus.txt"
        corpus.write_text("\n".join(corpus_lines()) + "\n", encoding="utf-8")
        prefix = Path(tmp) / "spiece"
        # Relative names: the trainer records them in spiece.model, so a rebuild is byte-identical.
        cwd = os.getcwd()
        os.chdir(tmp)
        try:
          spm.SentencePieceTrainer.train(
            input="corpus.txt", model_prefix="spiece", vocab_size=vocab, model_type="unigram",
            pad_id=0, eos_id=1, unk_id=2, bos_id=-1, character_coverage=1.0, num_threads=1,
            normalization_rule_name="nmt_nfkc", seed_sentencepiece_size=100000,
            minloglevel=2,
          )
        finally:
            os.chdir(cwd)
        tokenizer = T5TokenizerFast(vocab_file=str(prefix) + ".model", extra_ids=EXTRA_IDS, model_max_length=640)
        tokenizer.save_pretrained(out_dir)
    return tokenizer


def build_model(preset: dict, tokenizer_size: int, seed: int):
    import torch
    from transformers import GenerationConfig, T5Config, T5ForConditionalGeneration

    config = T5Config(
        vocab_size=max(preset.get("vocab_size", 0), tokenizer_size),
        d_model=preset["d_model"], d_ff=preset["d_ff"], d_kv=preset["d_kv"], num_heads=preset["num_heads"],
        num_layers=preset["num_layers"], num_decoder_layers=preset["num_decoder_layers"],
        feed_forward_proj="gated-gelu", tie_word_embeddings=False,
        relative_attention_num_buckets=32, relative_attention_max_distance=128,
        dropout_rate=0.1, layer_norm_epsilon=1e-6, initializer_factor=1.0,
        pad_token_id=0, eos_token_id=1, decoder_start_token_id=0,
        architectures=["T5ForConditionalGeneration"],
    )
    torch.manual_seed(seed)
    model = T5ForConditionalGeneration(config).eval()
    model.generation_config = GenerationConfig(
        decoder_start_token_id=0, eos_token_id=1, pad_token_id=0, max_length=640,
    )
    return model


def export(checkpoint: Path, out_dir: Path) -> list[str]:
    from optimum.exporters.onnx import main_export

    with tempfile.TemporaryDirectory() as tmp:
        main_export(str(checkpoint), output=tmp, task="text2text-generation-with-past", device="cpu",
                    do_validation=False, no_post_process=False)
        onnx_dir = out_dir / "onnx"
        onnx_dir.mkdir(parents=True, exist_ok=True)
        kept = []
        for name in ("encoder_model.onnx", "decoder_model_merged.onnx"):
            shutil.copyfile(Path(tmp) / name, onnx_dir / name)
            kept.append(f"onnx/{name}")
        return kept


def verify(out_dir: Path, model, tokenizer) -> dict:
    """Greedy generation: PyTorch vs the exported graphs (optimum's ORT runner) on one prompt."""
    from optimum.onnxruntime import ORTModelForSeq2SeqLM

    prompt = GNER_INSTRUCTION + "\nUse the specific entity tags: person, location and O.\nSentence: Angela Merkel visited Paris ."
    inputs = tokenizer(prompt, return_tensors="pt")
    torch_ids = model.generate(**inputs, max_new_tokens=24, num_beams=1, do_sample=False)[0].tolist()
    ort = ORTModelForSeq2SeqLM.from_pretrained(out_dir, subfolder="onnx", use_merged=True, use_cache=True)
    ort_ids = ort.generate(**inputs, max_new_tokens=24, num_beams=1, do_sample=False)[0].tolist()
    if torch_ids != ort_ids:
        raise SystemExit(f"export check failed: torch {torch_ids} vs onnx {ort_ids}")
    return {"prompt_tokens": int(inputs["input_ids"].shape[1]), "generated": torch_ids}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--preset", choices=sorted(PRESETS), required=True)
    parser.add_argument("--out", type=Path)
    parser.add_argument("--seed", type=int, default=20240601)
    args = parser.parse_args()
    configure()
    preset = PRESETS[args.preset]
    out_dir: Path | None = args.out or preset["out"]
    if out_dir is None:
        parser.error(f"--out is required for {args.preset}")
    out_dir = out_dir.resolve()
    if out_dir.exists():
        shutil.rmtree(out_dir)
    out_dir.mkdir(parents=True)
    started = time.time()

    tokenizer = build_tokenizer(out_dir, preset["vocab"], preset.get("vocab_from"))
    model = build_model(preset, len(tokenizer), args.seed)
    with tempfile.TemporaryDirectory() as tmp:
        model.save_pretrained(tmp)
        tokenizer.save_pretrained(tmp)
        files = export(Path(tmp), out_dir)
    model.config.save_pretrained(out_dir)
    model.generation_config.save_pretrained(out_dir)
    check = verify(out_dir, model, tokenizer)

    info = {
        "preset": args.preset, "seed": args.seed, "architecture": "T5ForConditionalGeneration (flan-t5 layout)",
        "parameters": sum(p.numel() for p in model.parameters()),
        "tokenizer_vocab": len(tokenizer), "check": check,
        "built_in_s": round(time.time() - started, 1), "versions": package_versions(),
        "files": {
            str(p.relative_to(out_dir)): {"bytes": p.stat().st_size, "sha256": sha256_file(p)}
            for p in sorted(out_dir.rglob("*")) if p.is_file() and p.name != "BUILD_INFO.json"
        },
    }
    (out_dir / "BUILD_INFO.json").write_text(json.dumps(info, indent=2) + "\n", encoding="utf-8")
    print(f"[gner] {args.preset}: {info['parameters']:,} parameters, {files} in {info['built_in_s']} s -> {out_dir}")


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    main()
