#!/usr/bin/env python3
"""Golden outputs for the GNER backend: greedy generation, and the reference evaluator's parsing.

Generation (``--model``, a folder written by ``build_gner_model.py``): for every case, the prompt
GNER's dataset code builds (``src/gner_dataset.py`` of yyDing1/GNER: instruction, ``"\\nUse the
specific entity tags: a, b and O.\\n"``, ``"Sentence: " + " ".join(words)``), its input ids from
the folder's tokenizer, and PyTorch's greedy ``generate()`` (``num_beams=1``, ``do_sample=False``)
of the model rebuilt from the folder's preset and seed — checked equal to the committed ONNX
graphs run by optimum's ``ORTModelForSeq2SeqLM`` — as ids and as text.

Parsing (``--gner-src``, a checkout of yyDing1/GNER, commit 16d30d5): hand-written model outputs
(repeated words, dropped and added words, changed case, unknown labels, words the tokenizer
changes) taken through the reference evaluator's own ``extract_predictions`` (regex, unknown
labels to O, hierarchical matching) with and without the tokenizer's back-tokenization, and its
``parser`` (BIO to normalised entity tuples).

    models/.venv/bin/python models/golden_gner.py --model test/fixtures/models/tiny-gner \\
        --gner-src /path/to/GNER --out test/fixtures/parity/golden-gner-tiny.jsonl

One ASCII JSON line per case: ``{"kind": "generate", ...}`` or ``{"kind": "parse", ...}``.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from build_gner_model import GNER_INSTRUCTION, PRESETS, build_model  # noqa: E402
from gliner_tools.env import configure  # noqa: E402

MAX_NEW_TOKENS = 40

GENERATE_CASES = [
    (["Angela", "Merkel", "visited", "Paris", "."], ["person", "location"]),
    (["Apple", "Inc.", "said", "on", "Monday", "that", "Tim", "Cook", "will", "visit", "Tokyo", "."], ["organization", "person", "location", "date"]),
    (["The", "European", "Union", "’s", "court", "in", "Luxembourg", "ruled", "—", "again", "."], ["organization", "location"]),
    (["Café", "owners", "in", "São", "Paulo", "protested", "{", "loudly", "}", "."], ["location", "person", "organization"]),
    (["Reuters", "reported", "it", "."], ["organization"]),
]

# (input words, label list, the model's output text)
PARSE_CASES = [
    # exact: every word back, in order
    (["Angela", "Merkel", "visited", "Paris", "."], ["person", "location"],
     "Angela(B-person) Merkel(I-person) visited(O) Paris(B-location) .(O)"),
    # changed case: matching is lower-cased
    (["Angela", "Merkel", "visited", "Paris", "."], ["person", "location"],
     "angela(B-person) MERKEL(I-person) visited(O) paris(B-location) .(O)"),
    # a label outside the list becomes O
    (["Angela", "Merkel", "visited", "Paris", "."], ["person", "location"],
     "Angela(B-person) Merkel(I-person) visited(O) Paris(B-city) .(O)"),
    # dropped words: an in-order subsequence
    (["Angela", "Merkel", "visited", "Paris", "on", "Monday", "."], ["person", "location"],
     "Angela(B-person) Merkel(I-person) Paris(B-location) .(O)"),
    # an added word: longest common subsequence
    (["Angela", "Merkel", "visited", "Paris", "."], ["person", "location"],
     "Chancellor(O) Angela(B-person) Merkel(I-person) visited(O) Paris(B-location) .(O)"),
    # repeated words, one swapped pair: LCS picks among equal matches
    (["Paris", "and", "Paris", "Hilton", "met", "in", "Paris", "."], ["person", "location"],
     "Paris(B-location) and(O) Paris(B-person) Hilton(I-person) in(O) met(O) Paris(B-location) .(O)"),
    # repeated words throughout, reordered
    (["the", "bank", "of", "the", "bank", "of", "England", "the", "end"], ["organization"],
     "the(O) bank(B-organization) the(O) of(I-organization) bank(O) England(I-organization) of(O) the(O) end(O)"),
    # I- without B-, and I- of another type after B- (the reference keeps one span, last label)
    (["Tim", "Cook", "of", "Apple", "Park", "spoke"], ["person", "location", "organization"],
     "Tim(I-person) Cook(I-person) of(O) Apple(B-organization) Park(I-location) spoke(O)"),
    # no tags at all, text without structure
    (["Nothing", "to", "see", "."], ["person"], "I cannot do that."),
    # truncated output: the words after the cut are O
    (["Tim", "Cook", "visited", "Tokyo", "and", "Osaka", "."], ["person", "location"],
     "Tim(B-person) Cook(I-person) visited(O) Tokyo(B-location"),
    # words the tokenizer changes: unknown characters and NFKC (back-tokenization matters)
    (["The", "{", "ﬁnal", "}", "match", "in", "Zürich", "."], ["location"],
     "The(O) (O) final(O) (O) match(O) in(O) Zürich(B-location) .(O)"),
    # empty words between tags and spaces inside the word part
    (["New", "York", "City", "is", "big"], ["location"],
     "New York(B-location) City(I-location) (O) is(O) big(O)"),
]


def load_evaluator(gner_src: Path):
    path = gner_src / "src" / "gner_evaluator.py"
    spec = importlib.util.spec_from_file_location("gner_evaluator", path)
    if spec is None or spec.loader is None:
        raise SystemExit(f"cannot load {path}")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def prompt(words: list[str], labels: list[str]) -> str:
    return GNER_INSTRUCTION + f"\nUse the specific entity tags: {', '.join(labels)} and O.\n" + "Sentence: " + " ".join(words)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", type=Path, required=True)
    parser.add_argument("--gner-src", type=Path, required=True, help="a checkout of github.com/yyDing1/GNER")
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    configure()
    import torch
    from optimum.onnxruntime import ORTModelForSeq2SeqLM
    from transformers import AutoTokenizer

    info = json.loads((args.model / "BUILD_INFO.json").read_text(encoding="utf-8"))
    tokenizer = AutoTokenizer.from_pretrained(args.model)
    model = build_model(PRESETS[info["preset"]], len(tokenizer), info["seed"])
    ort = ORTModelForSeq2SeqLM.from_pretrained(args.model, subfolder="onnx", use_merged=True, use_cache=True)
    evaluator = load_evaluator(args.gner_src)
    # The prompt's instruction is GNER's own file, verbatim (the TypeScript backend has a copy).
    instruction = json.loads((args.gner_src / "configs" / "instruction_configs" / "instruction.json").read_text(encoding="utf-8"))[0]
    if instruction != GNER_INSTRUCTION:
        raise SystemExit("GNER_INSTRUCTION differs from configs/instruction_configs/instruction.json of --gner-src")

    lines = []
    for words, labels in GENERATE_CASES:
        text = prompt(words, labels)
        inputs = tokenizer(text, return_tensors="pt")
        with torch.no_grad():
            result = model.generate(**inputs, max_new_tokens=MAX_NEW_TOKENS, num_beams=1, do_sample=False,
                                    return_dict_in_generate=True, output_scores=True)
        ids = result.sequences[0].tolist()
        # The smallest gap between the chosen token's logit and the runner-up's over all steps: an
        # engine whose logits differ by less than this (fp32 kernels of other CPUs: ~1e-5) picks
        # the same tokens, so the exact comparison holds on any x86-64 machine.
        margin = min(float(top[0] - top[1]) for top in (step[0].topk(2).values for step in result.scores))
        ort_ids = ort.generate(**inputs, max_new_tokens=MAX_NEW_TOKENS, num_beams=1, do_sample=False)[0].tolist()
        if ids != ort_ids:
            raise SystemExit(f"torch and the ONNX graphs disagree on {words}: {ids} vs {ort_ids}")
        lines.append({
            "kind": "generate", "words": words, "labels": labels, "prompt": text,
            "input_ids": inputs["input_ids"][0].tolist(), "max_new_tokens": MAX_NEW_TOKENS,
            "generated_ids": ids, "generated_text": tokenizer.decode(ids, skip_special_tokens=True),
            "min_logit_margin": margin,
        })

    for words, labels, output in PARSE_CASES:
        example = {"prediction": output, "label_list": labels, "instance": {"words": words, "labels": ["O"] * len(words)}}
        plain = evaluator.extract_predictions(example, tokenizer=None)
        back = evaluator.extract_predictions(example, tokenizer=tokenizer)
        lines.append({
            "kind": "parse", "words": words, "labels": labels, "output": output,
            "extracted": list(evaluator.extract(output.strip())),
            "back_tokenized_words": tokenizer.batch_decode(tokenizer(list(map(str.lower, words)))["input_ids"], skip_special_tokens=True),
            "predictions": plain, "predictions_back_tokenized": back,
            "entities": [list(t) for t in evaluator.parser(words, plain)],
            "entities_back_tokenized": [list(t) for t in evaluator.parser(words, back)],
        })

    args.out.parent.mkdir(parents=True, exist_ok=True)
    with open(args.out, "w", encoding="ascii") as handle:
        for line in lines:
            handle.write(json.dumps(line, ensure_ascii=True) + "\n")
    print(f"[golden-gner] {len(GENERATE_CASES)} generation and {len(PARSE_CASES)} parsing cases -> {args.out}")


if __name__ == "__main__":
    main()
