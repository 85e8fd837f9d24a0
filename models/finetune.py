#!/usr/bin/env python3
"""Fine-tune a GLiNER checkpoint on annotated examples and export the result as a model folder.

The training step of the Label Studio loop (``news-enricher label-studio``): the backend
writes the project's annotations as GLiNER training JSONL (``tokenized_text`` and inclusive
word spans ``ner``, see ``src/label-studio/annotations.ts``), then runs::

    models/.venv/bin/python models/finetune.py --examples round/train.jsonl \\
        --init served/checkpoint --out round --labels person,organization --steps 300

Long texts are cut into contexts at sentence ends (``train_data.chunk``, the training
recipe's rule); every context asks for all ``--labels``, so a label an annotator did not
mark in a context is learnt as absent there. Writes ``--out/checkpoint`` (the next round
starts from it), the ONNX model folder (``gliner_config.json``, tokenizer, ``onnx/``) and
``--out/FINETUNE.json`` (hyper-parameters, data, dev loss, timings).
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from gliner_tools import env  # noqa: E402


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--examples", type=Path, required=True, help="training JSONL (tokenized_text, ner)")
    parser.add_argument("--init", type=Path, required=True, help="GLiNER checkpoint folder to start from")
    parser.add_argument("--out", type=Path, required=True, help="output model folder")
    parser.add_argument("--labels", required=True, help="comma list of every prompt of the project")
    parser.add_argument("--variants", default="fp32", help="ONNX variants to export (export_onnx.py --variants)")
    parser.add_argument("--steps", type=int, default=300)
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument("--encoder-lr", type=float, default=2e-5)
    parser.add_argument("--head-lr", type=float, default=1e-4)
    parser.add_argument("--max-words", type=int, default=256, help="words per training context")
    parser.add_argument("--max-subtokens", type=int, default=400)
    parser.add_argument("--dev-fraction", type=float, default=0.1, help="contexts held out for the dev loss")
    parser.add_argument("--seed", type=int, default=20261203)
    parser.add_argument("--threads", type=int, default=2)
    return parser.parse_args(argv)


def contexts(records: list[dict], labels: list[str], max_words: int, fits) -> list[dict]:
    """Cuts each record into contexts (entities never split) with its spans re-based."""
    import train_data

    out = []
    for record in records:
        tokens, ner = record["tokenized_text"], record["ner"]
        if not tokens:
            continue
        # train_data works on exclusive ends internally for cut points; our spans are inclusive.
        spans = [(s, e + 1, label) for s, e, label in ner]
        for start, end in train_data.chunk(tokens, spans, max_words, fits):
            inside = [[s - start, e - 1 - start, label] for s, e, label in spans if s >= start and e <= end]
            present = {label for _, _, label in inside}
            out.append({"tokenized_text": tokens[start:end], "ner": inside,
                        "ner_negatives": [label for label in labels if label not in present]})
    return out


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    env.configure(offline=True)
    import torch
    import transformers
    from gliner import GLiNER
    from gliner.training import Trainer, TrainingArguments

    import export_onnx

    labels = [label.strip() for label in args.labels.split(",") if label.strip()]
    torch.set_num_threads(args.threads)
    transformers.set_seed(args.seed)
    out: Path = args.out.resolve()
    out.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()

    model = GLiNER.from_pretrained(str(args.init.resolve()), local_files_only=True, load_tokenizer=True)
    tokenizer = model.data_processor.transformer_tokenizer

    def fits(words: list[str]) -> bool:
        return sum(len(tokenizer.tokenize(w)) for w in words) <= args.max_subtokens

    records = [json.loads(line) for line in args.examples.read_text(encoding="utf-8").splitlines() if line.strip()]
    all_contexts = contexts(records, labels, min(args.max_words, model.config.max_len), fits)
    if not all_contexts:
        print("[finetune] no training contexts in the examples", file=sys.stderr)
        return 2
    rng = random.Random(args.seed)
    rng.shuffle(all_contexts)
    n_dev = int(len(all_contexts) * args.dev_fraction) if len(all_contexts) >= 20 else 0
    dev, train = all_contexts[:n_dev], all_contexts[n_dev:]
    # The trainer stops at max_steps: repeat the contexts (fresh order each pass) to fill them.
    need = args.steps * args.batch_size
    examples = []
    while len(examples) < need:
        rng.shuffle(train)
        examples.extend(train)
    examples = examples[:need]
    print(f"[finetune] {len(records)} examples -> {len(train)} training contexts, {len(dev)} dev; "
          f"{args.steps} steps of {args.batch_size}; labels {labels}", flush=True)

    class Progress(transformers.TrainerCallback):
        def on_log(self, _args, state, _control, logs=None, **_):
            shown = " ".join(f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}" for k, v in (logs or {}).items())
            print(f"[finetune] step {state.global_step}/{state.max_steps} {shown} "
                  f"({time.perf_counter() - started:.0f} s)", flush=True)

    training_args = TrainingArguments(
        output_dir=str(out / "checkpoints"),
        learning_rate=args.encoder_lr,
        others_lr=args.head_lr,
        weight_decay=0.01,
        others_weight_decay=0.01,
        lr_scheduler_type="linear",
        warmup_ratio=0.1,
        focal_loss_alpha=0.75,
        focal_loss_gamma=2.0,
        loss_reduction="sum",
        per_device_train_batch_size=args.batch_size,
        per_device_eval_batch_size=args.batch_size,
        max_grad_norm=1.0,
        max_steps=args.steps,
        logging_steps=max(1, min(25, args.steps // 4)),
        eval_strategy="no",
        save_strategy="no",
        use_cpu=True,
        dataloader_num_workers=0,
        seed=args.seed,
        data_seed=args.seed,
        report_to="none",
        disable_tqdm=True,
    )
    trainer = Trainer(model=model, args=training_args, train_dataset=examples,
                      eval_dataset=dev or None, data_collator=model._create_data_collator(),
                      tokenizer=tokenizer, callbacks=[Progress()])
    trainer.train()
    train_s = time.perf_counter() - started
    dev_loss = trainer.evaluate().get("eval_loss") if dev else None
    checkpoint = out / "checkpoint"
    model.save_pretrained(str(checkpoint))
    tokenizer.save_pretrained(str(checkpoint))
    print(f"[finetune] trained in {train_s:.0f} s; dev loss {dev_loss}; exporting {args.variants}", flush=True)

    code = export_onnx.main([str(checkpoint), "--out", str(out), "--variants", args.variants])
    if code != 0:
        return code
    record = {
        "init": str(args.init),
        "examples": str(args.examples),
        "records": len(records),
        "train_contexts": len(train),
        "dev_contexts": len(dev),
        "labels": labels,
        "hyper_parameters": {k: v for k, v in vars(args).items() if k not in ("examples", "init", "out", "labels")},
        "dev_loss": dev_loss,
        "train_seconds": round(train_s, 1),
        "total_seconds": round(time.perf_counter() - started, 1),
        "versions": env.package_versions(),
    }
    (out / "FINETUNE.json").write_text(json.dumps(record, indent=2) + "\n")
    print(f"[finetune] done in {record['total_seconds']:.0f} s -> {out}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
