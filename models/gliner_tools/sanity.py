"""A quick look at what a (calibrated) model predicts on ordinary news text.

Used by the build to report, and to store in BUILD_INFO.json, how many
entities a random model finds: a useful fixture finds a handful per
paragraph (not zero, not every span), with several different labels.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from gliner.model import BaseGLiNER

SANITY_TEXTS: tuple[str, ...] = (
    "Prime Minister Keir Starmer met French President Emmanuel Macron in Paris on Friday to discuss "
    "military aid for Ukraine and new sanctions against Russia.",
    "Shares of Nvidia rose 4% on Wall Street on Wednesday after the chipmaker beat analysts' forecasts, "
    "while Apple slipped 1.2% ahead of its developer conference in Cupertino.",
    "Heavy rain flooded parts of Valencia in eastern Spain overnight, and the regional government said "
    "at least 62 people had died. King Felipe VI is expected to visit the area on Sunday.",
    "The World Health Organization warned that cholera cases in Sudan had doubled since January, "
    "straining hospitals in Khartoum and Port Sudan that were already short of medicine.",
)
SANITY_LABELS: tuple[str, ...] = (
    "person", "organization", "location", "date", "event", "number", "country", "company",
)

SANITY_RELATIONS: tuple[str, ...] = ("works for", "located in", "part of")


def prediction_summary(model: BaseGLiNER, threshold: float = 0.5) -> dict[str, Any]:
    """Entity counts per text, label histogram and score range at ``threshold`` (flat NER)."""
    relations = None
    if getattr(model.config, "relations_layer", None) is not None:
        results, relations = model.inference(list(SANITY_TEXTS), list(SANITY_LABELS), relations=list(SANITY_RELATIONS),
                                             threshold=threshold, batch_size=1)
    else:
        results = model.inference(list(SANITY_TEXTS), list(SANITY_LABELS), threshold=threshold, batch_size=1)
    scores = [entity["score"] for entities in results for entity in entities]
    labels = Counter(entity["label"] for entities in results for entity in entities)
    return {
        "threshold": threshold,
        "entities_per_text": [len(entities) for entities in results],
        "labels": dict(sorted(labels.items())),
        "score_min": min(scores) if scores else None,
        "score_max": max(scores) if scores else None,
        **({} if relations is None else _relation_summary(relations)),
    }


def _relation_summary(relations: list[list[dict[str, Any]]]) -> dict[str, Any]:
    scores = [relation["score"] for per_text in relations for relation in per_text]
    names = Counter(relation["relation"] for per_text in relations for relation in per_text)
    return {
        "relations_per_text": [len(per_text) for per_text in relations],
        "relation_names": dict(sorted(names.items())),
        "relation_score_min": min(scores) if scores else None,
        "relation_score_max": max(scores) if scores else None,
    }
