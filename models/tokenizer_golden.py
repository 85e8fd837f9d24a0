#!/usr/bin/env python3
"""Write reference sub-token ids of single words, for the tokenizer parity test.

Why: the TypeScript engine tokenizes each pre-split word on its own, as the reference
does with ``is_split_into_words=True``. The reference runs the Rust ``tokenizers``
library; this records what it returns for (a) every code point whose ids a naive
NFKC-based normalizer gets wrong, (b) whole Unicode blocks that exercise the
SentencePiece charsmap, and (c) random multi-character words (combining marks, jamo,
Indic signs, emoji sequences), with a fixed seed.

Usage::

    models/.venv/bin/python models/tokenizer_golden.py \
        --tokenizer test/fixtures/tokenizer/tokenizer.json \
        --out test/fixtures/parity/tokenizer-golden.json
"""

from __future__ import annotations

import argparse
import json
import random
import unicodedata
from pathlib import Path

import tokenizers

BLOCKS = [
    (0x0000, 0x0250),  # ASCII, Latin-1, Latin Extended
    (0x0300, 0x0370),  # combining marks
    (0x2000, 0x2070),  # general punctuation (zero-width, BOM-like, spaces)
    (0x2100, 0x2190),  # letterlike symbols, number forms
    (0x3000, 0x3100),  # CJK punctuation, kana
    (0xFB00, 0xFB50),  # ligatures
    (0xFE00, 0xFF00),  # variation selectors, small forms, BOM
    (0xFF00, 0xFFF0),  # full-width forms
    (0x1F1E6, 0x1F200),  # regional indicators
]

POOLS = [
    list(range(0x41, 0x5B)) + list(range(0x61, 0x7B)),
    list(range(0x300, 0x370)),
    list(range(0x1100, 0x1200)),
    list(range(0x900, 0x980)),
    list(range(0x600, 0x700)),
    list(range(0xE00, 0xE60)),
    list(range(0x4E00, 0x4E40)),
    list(range(0xFF01, 0xFF5F)),
    [0xFB01, 0xFB02, 0xBD, 0x2122, 0x2460, 0x3300, 0x1E9E, 0xDF, 0x130, 0x3C2],
    [0x1F600, 0x1F44D, 0x1F3FD, 0x200D, 0xFE0F, 0x2764, 0x1F1FA, 0x1F1F8, 0x1F469, 0x1F4BB],
    [0x200B, 0xFEFF, 0xAD, 0x2060, 0x200C, 0x200E, 0x61C, 0xA7F1, 0x32FF],
]


BERT_WORDS = [
    # accents (NFD + strip Mn), lowercasing incl. final sigma, dotted I, sharp s
    "Café", "naïve", "Ångström", "Zürich", "São", "Đà", "ŁÓDŹ", "ΟΔΥΣΣΕΥΣ", "Σ", "İstanbul", "STRAẞE", "ﬁnance",
    # punctuation inside words (isolated by the pre-tokenizer), CJK padding
    "U.S.", "don't", "co-operate", "e-mail@example.com", "$1,000.50", "#MeToo", "北京大学", "東京2020", "ｶﾀｶﾅ",
    # added tokens inside words (matched before normalization), special tokens as text
    "<<ENT>>", "x<<ENT>>y", "<<SEP>><<ENT>>", "[SEP]", "[cls]", "[UNK]", "<<ent>>",
    # WordPiece edges: prefix text, words over 100 characters, unknown pieces
    "##ing", "unaffable", "a" * 100, "a" * 101, "supercalifragilistic" * 5, "Qx\u0a80z",
    # controls and zero-width characters inside words
    "a\u200bb", "soft\u00adhyphen", "tab\there", "bom\ufeffword", "nel\u0085x", "\u061dx",
]
"""Multi-character words for BERT-family tokenizers (``--family bert``)."""


def naive_differs(ch: str) -> bool:
    """Characters a JS-style normalizer (NFKC + JS trim) is likely to get wrong."""
    return ch != unicodedata.normalize("NFKC", ch) or ch.isspace() or ch in "\ufeff\u200b"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--tokenizer", type=Path, required=True)
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--random-words", type=int, default=5000)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--family", choices=["sentencepiece", "bert"], default="sentencepiece",
                    help="bert: add multi-character words for WordPiece tokenizers (accents, punctuation, added tokens)")
    args = ap.parse_args()

    words: list[str] = []
    for lo, hi in BLOCKS:
        words += [chr(c) for c in range(lo, hi) if not 0xD800 <= c <= 0xDFFF]
    words += [chr(c) for c in range(0x110000) if not 0xD800 <= c <= 0xDFFF and naive_differs(chr(c))][:4000]
    rng = random.Random(args.seed)
    for _ in range(args.random_words):
        words.append("".join(chr(rng.choice(rng.choice(POOLS))) for _ in range(rng.randint(1, 8))))
    if args.family == "bert":
        words += BERT_WORDS
        # Latin words with random combining marks and case: what strip_accents + lowercase see in news.
        letters = [chr(c) for c in list(range(0x41, 0x5B)) + list(range(0xC0, 0x180))]
        for _ in range(1000):
            words.append("".join(rng.choice(letters) + (chr(rng.randrange(0x300, 0x370)) if rng.random() < 0.3 else "")
                                 for _ in range(rng.randint(2, 10))))
    words = list(dict.fromkeys(words))

    tk = tokenizers.Tokenizer.from_file(str(args.tokenizer))
    # Word by word, as GLiNER encodes: no batch padding, no truncation (BERT tokenizer.json files set both).
    tk.no_padding()
    tk.no_truncation()
    encs = tk.encode_batch([[w] for w in words], is_pretokenized=True, add_special_tokens=False)
    out = {"tokenizers_version": tokenizers.__version__, "words": [[w, e.ids] for w, e in zip(words, encs)]}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(out, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"{len(words)} words -> {args.out}")


if __name__ == "__main__":
    main()
