"""Training examples for the news GLiNER: open NER sets -> GLiNER training records.

Reads the GLiNER-format JSONL files of ``../shared/data/ner`` (``tokenized_text``
+ inclusive word spans ``ner``) and turns them into the records gliner's data
collator takes: ``{"tokenized_text", "ner", "ner_negatives"}``.

* **Which files.** Train splits, plus the dev splits of the sets that have no
  (or a tiny) train split: CrossNER dev and UNER EWT dev.  GUM Wikinews dev is
  kept out: it is the development set for window tuning and for the training
  curve.  No test split is ever read.
* **Contexts.** Short examples are used whole.  Long documents (GUM Wikinews,
  UNER EWT) are cut into contexts at sentence ends (a token ending in ``.``,
  ``!`` or ``?``) without cutting an entity, in two sizes: short contexts
  (about 64 words, what the model sees in most public GLiNER data) and
  window-length contexts (up to ``long_words`` words and a sub-token budget),
  so the model also learns to read the long windows the engine feeds it.
* **Batches** (optional, ``batch_size`` > 0; off in the shipped recipe). Examples are grouped into batches of similar length (sorted
  within shuffled blocks of 50 batches, then the batches shuffled), so a
  batch of short sentences is not padded to one window-length context; the
  trainer reads them in this order.
* **Label views.** CrossNER and WNUT use fine labels (politician, band,
  corporation, ...).  Each time an example is drawn, it is shown either with
  its own labels or, with probability ``coarse_p``, with the coarse news labels
  (person / organization / location / event) that its fine labels map to.
* **Fine and coarse together** (optional, ``both_p``; 0 in the shipped recipe). With probability ``both_p``, a fine-label view
  also puts the coarse names of its labels in the prompt (``politician`` and
  ``person``) with the fine one as the gold label: a user who asks for both
  wants the specific one, and without such draws the model never sees the
  two side by side and picks the coarse name.
* **Negatives.** Each draw adds label names the text is not annotated with,
  sampled from the other sets' label lists.  Names that mean the same thing as
  one of the source set's labels (``country`` for a set with ``location``,
  ``person`` for a set with ``politician``) are never negatives there: that
  would teach that a politician is not a person.

Everything is drawn from one seeded ``random.Random``.
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

COARSE: dict[str, str] = {
    "politician": "person", "scientist": "person", "musical artist": "person",
    "writer": "person", "researcher": "person",
    "political party": "organization", "band": "organization", "university": "organization",
    "corporation": "organization", "group": "organization",
    "country": "location",
    "election": "event",
}
"""Fine label -> the news label it is a kind of."""

FAMILY_OF: dict[str, str] = {**{k: v for k, v in COARSE.items()},
                             **{v: v for v in set(COARSE.values())}}
"""Every label that belongs to a coarse family, including the coarse name itself."""

VAGUE = {"miscellaneous", "abstract entity", "object", "substance"}
"""Catch-all labels: kept as positives where annotated, never drawn as negatives."""


@dataclass(frozen=True)
class SourceSpec:
    """One input file and how often an epoch reads it."""

    file: str
    repeat: int = 1
    coarse_p: float = 0.0
    long_document: bool = False
    both_p: float = 0.0


SOURCES: tuple[SourceSpec, ...] = (
    SourceSpec("wnut17.train.jsonl", 1, coarse_p=0.5),
    *(SourceSpec(f"crossner_{d}.{s}.jsonl", 1, coarse_p=0.5)
      for d in ("politics", "science", "music", "literature", "ai") for s in ("train", "dev")),
    SourceSpec("gum_wikinews.train.jsonl", 3, long_document=True),
    SourceSpec("uner_en_ewt.dev.jsonl", 2, long_document=True),
)
"""The training mix (the news documents are read more often than their size alone would)."""

DEV_FILE = "gum_wikinews.dev.jsonl"


@dataclass
class Context:
    tokens: list[str]
    ner: list[list[Any]]
    source: str
    coarse_p: float
    both_p: float


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    with open(path, encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


def cut_points(tokens: list[str], ner: list[list[Any]]) -> list[int]:
    """Word indices after which a context may end: sentence ends outside any entity."""
    inside = [False] * len(tokens)
    for start, end, _ in ner:
        for i in range(start, end):  # a cut after word i would split [start, end]
            inside[i] = True
    return [i + 1 for i, tok in enumerate(tokens)
            if not inside[i] and (tok.endswith((".", "!", "?")) or i == len(tokens) - 1)]


def chunk(tokens: list[str], ner: list[list[Any]], max_words: int,
          fits: Callable[[list[str]], bool]) -> list[tuple[int, int]]:
    """Greedy [start, end) contexts of at most ``max_words`` words that ``fits``, cut at sentence ends.

    A sentence longer than the limit is cut at the last word boundary outside an
    entity; an entity longer than the limit is impossible in these sets.
    """
    cuts = cut_points(tokens, ner)
    inside = set()
    for start, end, _ in ner:
        inside.update(range(start, end))
    out: list[tuple[int, int]] = []
    start = 0
    while start < len(tokens):
        best = None
        for c in cuts:
            if c <= start:
                continue
            if c - start > max_words or not fits(tokens[start:c]):
                break
            best = c
        if best is None:  # one over-long sentence: cut inside it, never inside an entity
            end = min(len(tokens), start + max_words)
            while end > start + 1 and ((end - 1) in inside or not fits(tokens[start:end])):
                end -= 1
            best = end
        out.append((start, best))
        start = best
    return out


def contexts_of(record: dict[str, Any], spec: SourceSpec, long_words: int,
                fits: Callable[[list[str]], bool]) -> list[Context]:
    tokens: list[str] = record["tokenized_text"]
    ner: list[list[Any]] = record["ner"]
    sizes = (64, long_words) if spec.long_document else (long_words,)
    out: list[Context] = []
    for size in sizes:
        for start, end in chunk(tokens, ner, size, fits):
            spans = [[s - start, e - start, label] for s, e, label in ner if s >= start and e < end]
            out.append(Context(tokens[start:end], spans, spec.file, spec.coarse_p, spec.both_p))
    return out


def label_inventory(records_by_file: dict[str, list[dict[str, Any]]]) -> dict[str, set[str]]:
    return {f: {label for r in rs for _, _, label in r["ner"]} for f, rs in records_by_file.items()}


def forbidden_negatives(own_labels: set[str]) -> set[str]:
    """Labels that mean something a set already annotates (its labels and their families)."""
    families = {FAMILY_OF[label] for label in own_labels if label in FAMILY_OF}
    return own_labels | {label for label, fam in FAMILY_OF.items() if fam in families} | VAGUE


def draw(context: Context, pool: list[str], forbidden: set[str], rng: random.Random,
         max_types: int) -> dict[str, Any]:
    """One training record: a label view and its negatives, drawn fresh."""
    coarse = rng.random() < context.coarse_p
    ner = [[s, e, COARSE.get(label, label) if coarse else label] for s, e, label in context.ner]
    positives = sorted({label for _, _, label in ner})
    # Fine view, both names asked: the coarse family names join the prompt as negatives.
    both = context.both_p > 0 and not coarse and rng.random() < context.both_p
    siblings = sorted({COARSE[label] for label in positives if label in COARSE} - set(positives)) if both else []
    room = max(0, max_types - len(positives) - len(siblings))
    allowed = [label for label in pool if label not in forbidden and label not in positives]
    k = min(room, len(allowed), rng.randint(0, max(1, len(positives)) + 3))
    if not positives and not siblings:  # a text without entities still needs a label to say "none of these"
        k = max(k, 1)
    negatives = siblings + rng.sample(allowed, k)
    return {"tokenized_text": context.tokens, "ner": ner, "ner_negatives": negatives}


def length_batches(examples: list[dict[str, Any]], batch_size: int, rng: random.Random,
                   block: int = 50) -> list[dict[str, Any]]:
    """Reorder ``examples`` so that each run of ``batch_size`` holds texts of similar length.

    Shuffled blocks of ``block`` batches are sorted by word count and cut into
    batches; the batches are then shuffled, so the data order stays random
    while padding to the longest text of a batch wastes little.
    """
    size = batch_size * block
    batches: list[list[dict[str, Any]]] = []
    for start in range(0, len(examples), size):
        group = sorted(examples[start:start + size], key=lambda e: len(e["tokenized_text"]))
        batches.extend(group[i:i + batch_size] for i in range(0, len(group), batch_size))
    rng.shuffle(batches)
    return [e for b in batches for e in b]


def build(data_dir: Path, seed: int, examples: int, long_words: int, max_types: int,
          fits: Callable[[list[str]], bool],
          batch_size: int = 0, both_p: float = 0.0) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """``examples`` training records (epochs over the mix, shuffled, fresh draws), and a summary.

    With ``batch_size`` > 0 the records come in length-grouped batches (``length_batches``);
    ``both_p`` is the fine-and-coarse draw probability of the sets that have coarse views.
    """
    rng = random.Random(seed)
    records = {spec.file: read_jsonl(data_dir / spec.file) for spec in SOURCES}
    inventory = label_inventory(records)
    pool = sorted(set().union(*inventory.values()) | set(COARSE.values()))
    forbidden = {f: forbidden_negatives(labels) for f, labels in inventory.items()}
    epoch: list[Context] = []
    per_source: dict[str, int] = {}
    for spec in SOURCES:
        if both_p > 0 and spec.coarse_p > 0:
            spec = SourceSpec(spec.file, spec.repeat, spec.coarse_p, spec.long_document, both_p)
        contexts = [c for r in records[spec.file] for c in contexts_of(r, spec, long_words, fits)]
        per_source[spec.file] = len(contexts) * spec.repeat
        epoch.extend(contexts * spec.repeat)
    out: list[dict[str, Any]] = []
    epochs = 0
    while len(out) < examples:
        order = list(range(len(epoch)))
        rng.shuffle(order)
        for i in order[: examples - len(out)]:
            c = epoch[i]
            out.append(draw(c, pool, forbidden[c.source], rng, max_types))
        epochs += 1
    if batch_size > 0:
        out = length_batches(out, batch_size, rng)
    summary = {
        "length_grouped_batches": batch_size > 0,
        "both_p": both_p,
        "contexts_per_epoch": len(epoch),
        "contexts_per_source": per_source,
        "epochs": round(examples / len(epoch), 3),
        "label_pool": pool,
        "long_words": long_words,
    }
    return out, summary


def dev_records(data_dir: Path, long_words: int, fits: Callable[[list[str]], bool]) -> list[dict[str, Any]]:
    """GUM Wikinews dev in window-length contexts (for the eval loss of the training curve)."""
    spec = SourceSpec(DEV_FILE, long_document=False)
    contexts = [c for r in read_jsonl(data_dir / DEV_FILE) for c in contexts_of(r, spec, long_words, fits)]
    return [{"tokenized_text": c.tokens, "ner": c.ner} for c in contexts]
