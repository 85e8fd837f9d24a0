"""Calibrating the scoring heads of a random-weight GLiNER.

Why: with random initialisation every span logit is a few hundredths away from
zero with a spread of about 0.01, so every score is ~0.50, every span passes a
0.3 threshold and near-ties are everywhere; golden outputs made from such a
model test nothing.  Real GLiNER logits are mostly strongly negative with a
few positive outliers.

What: we touch only the LAST ``nn.Linear`` of each scoring branch and apply an
affine re-parameterisation to it (a scale of its weight and a new bias), fitted
on two fixed calibration sentences (with 20 fixed labels) so that the logits
there have a target mean and standard deviation.  A plain rescale of the two
layers cannot move the mean below zero without also favouring one label
everywhere, hence the bias is re-fitted too:

* span models (``markerV0``): the last layer of the span projection
  (``span_rep_layer.span_rep_layer.out_project[-1]``) and of the prompt
  projection (``prompt_rep_layer[-1]``).  Their outputs ``y`` (span) and ``z``
  (label) meet in ``logit = y . z``.  We centre both on their calibration mean,
  project out one fixed unit direction ``e`` (the normalised all-ones vector),
  scale them, and put a constant back along ``e``:
  ``y' = s P (y - mu_y) + a e`` and ``z' = t P (z - mu_z) + b e`` with
  ``P = I - e e^T``.  Then ``y' . z' = s t [P(y - mu_y)] . [P(z - mu_z)] + a b``:
  the span/label interaction sets the spread, ``a b`` the offset, and no
  per-label or per-span constant survives (a plain rescale leaves one, and
  then a single label wins every span).
* token models: the last layer of the scorer MLP (``scorer.out_mlp[-1]``,
  3 outputs = start/end/inside).  Its input ``h`` depends on (word, label);
  a two-way decomposition over the calibration words and labels gives the
  label-only effects ``beta_c``.  We project the span of those effects out of
  each output's weight vector (otherwise one or two labels win every word),
  then standardise each output to the target mean and std (start, end and
  inside may have different target means).

Everything is deterministic: fixed sentences, fixed labels, float64 maths.
The fit holds exactly on the calibration sentences and only roughly
elsewhere: on other texts the tiny span model's logits spread a bit wider
(std ~2.2-3.7), the 12-layer medium model's much wider (std ~5-6), because a
deep random encoder varies more between texts than within one.
"""

from __future__ import annotations

from typing import Any

import torch
from gliner.model import BaseGLiNER
from torch import nn

from .presets import Calibration

CALIBRATION_TEXTS: tuple[str, ...] = (
    "On Monday the European Central Bank in Frankfurt kept interest rates unchanged, "
    "and its president Christine Lagarde told reporters that inflation in the euro area "
    "should fall to 2.1 percent by the end of 2025.",
    "Toyota Motor Corp. said on Thursday it would build a $1.3 billion battery plant near "
    "Greensboro, North Carolina, creating about 1,750 jobs, after talks with Governor Roy Cooper.",
)
CALIBRATION_LABELS: tuple[str, ...] = (
    "person", "organization", "location", "date", "money", "event", "country", "city", "company",
    "product", "facility", "vehicle", "number", "percentage", "award", "law", "political party",
    "sports team", "government agency", "time",
)


def _summary(values: torch.Tensor) -> dict[str, float]:
    return {
        "mean": values.mean().item(),
        "std": values.std().item(),
        "count": values.numel(),
        "frac_positive": (values > 0).double().mean().item(),
    }


def _collated_batch(model: BaseGLiNER, texts: tuple[str, ...], labels: tuple[str, ...]) -> dict[str, Any]:
    """The batch the reference pipeline builds for ``texts`` (one batch, no filtering surprises)."""
    prepared = model.prepare_batch(list(texts), list(labels))
    return model.collate_batch(prepared["input_x"], prepared["entity_types"], model.create_collator())


def _capture_output(module: nn.Module, model: BaseGLiNER, batch: dict[str, Any]) -> tuple[torch.Tensor, Any]:
    """Run the model on ``batch`` and return (output of ``module``, model output)."""
    captured: dict[str, torch.Tensor] = {}

    def hook(_mod: nn.Module, _inp: Any, out: torch.Tensor) -> None:
        captured["out"] = out.detach().double()

    handle = module.register_forward_hook(hook)
    try:
        output = model.run_batch(batch)
    finally:
        handle.remove()
    return captured["out"], output


def _word_validity(batch: dict[str, Any], num_words: int) -> torch.Tensor:
    lengths = batch["text_lengths"].reshape(-1)
    return torch.arange(num_words).unsqueeze(0) < lengths.unsqueeze(1)


def logit_stats(model: BaseGLiNER, texts: tuple[str, ...] = CALIBRATION_TEXTS,
                labels: tuple[str, ...] = CALIBRATION_LABELS) -> dict[str, Any]:
    """Mean/std/fraction positive of the logits over valid positions.

    Token models get one summary per output channel (start, end, inside) too.
    """
    batch = _collated_batch(model, texts, labels)
    with torch.no_grad():
        logits = model.run_batch(batch).logits.double()
    if model.config.span_mode == "token_level":
        valid = logits[_word_validity(batch, logits.shape[1])]  # (n_words, C, 3)
        stats = _summary(valid)
        stats["channels"] = {name: _summary(valid[..., i]) for i, name in enumerate(("start", "end", "inside"))}
        return stats
    bsz = logits.shape[0]
    return _summary(logits.reshape(bsz, -1, logits.shape[-1])[batch["span_mask"]])


@torch.no_grad()
def _set_linear(layer: nn.Linear, weight: torch.Tensor, bias: torch.Tensor) -> None:
    layer.weight.copy_(weight.to(layer.weight.dtype))
    layer.bias.copy_(bias.to(layer.bias.dtype))


@torch.no_grad()
def calibrate_span(model: BaseGLiNER, target: Calibration) -> dict[str, float]:
    """Re-parameterise the last span- and prompt-projection layers (see module docstring)."""
    span_last: nn.Linear = model.model.span_rep_layer.span_rep_layer.out_project[-1]
    prompt_last: nn.Linear = model.model.prompt_rep_layer[-1]
    batch = _collated_batch(model, CALIBRATION_TEXTS, CALIBRATION_LABELS)

    y_all, _ = _capture_output(span_last, model, batch)   # (B, N, D)
    z_all, _ = _capture_output(prompt_last, model, batch)  # (B, C, D)
    span_mask = batch["span_mask"]
    dim = y_all.shape[-1]

    mu_y = y_all[span_mask].mean(dim=0)
    mu_z = z_all.reshape(-1, dim).mean(dim=0)
    e = torch.full((dim,), dim ** -0.5, dtype=torch.float64)
    proj = torch.eye(dim, dtype=torch.float64) - torch.outer(e, e)

    yc = (y_all - mu_y) @ proj
    zc = (z_all - mu_z) @ proj
    interaction = torch.cat([(yc[i][span_mask[i]] @ zc[i].T).reshape(-1) for i in range(y_all.shape[0])])
    st = target.std / interaction.std().item()
    ab = target.mean - st * interaction.mean().item()

    rms_y = yc[span_mask].pow(2).mean().sqrt().item()
    rms_z = zc.pow(2).mean().sqrt().item()
    s = (st * rms_z / rms_y) ** 0.5
    t = st / s
    a = abs(ab) ** 0.5
    b = ab / a if a else 0.0

    w_s, b_s = span_last.weight.double(), span_last.bias.double()
    w_p, b_p = prompt_last.weight.double(), prompt_last.bias.double()
    _set_linear(span_last, s * proj @ w_s, s * proj @ (b_s - mu_y) + a * e)
    _set_linear(prompt_last, t * proj @ w_p, t * proj @ (b_p - mu_z) + b * e)
    return {"span_scale": s, "prompt_scale": t, "span_offset": a, "prompt_offset": b}


@torch.no_grad()
def calibrate_token(model: BaseGLiNER, target: Calibration) -> dict[str, float]:
    """Remove label-only effects from the scorer's last layer, then standardise its 3 outputs."""
    last: nn.Linear = model.model.scorer.out_mlp[-1]
    batch = _collated_batch(model, CALIBRATION_TEXTS, CALIBRATION_LABELS)
    captured: dict[str, torch.Tensor] = {}
    handle = last.register_forward_pre_hook(lambda _m, inp: captured.__setitem__("h", inp[0].detach().double()))
    try:
        model.run_batch(batch)
    finally:
        handle.remove()
    hidden = captured["h"]  # (B, W, C, H)
    h_valid = hidden[_word_validity(batch, hidden.shape[1])]  # (n_words, C, H)
    label_effects = h_valid.mean(dim=0) - h_valid.mean(dim=(0, 1))  # (C, H)
    _, sing, vh = torch.linalg.svd(label_effects, full_matrices=False)
    basis = vh[sing > 1e-9 * sing.max()].T  # (H, r)

    weight = last.weight.double()
    weight = weight - (weight @ basis) @ basis.T
    logits = torch.einsum("nch,kh->nck", h_valid, weight).reshape(-1, weight.shape[0])
    scale = target.std / logits.std(dim=0)
    means = torch.tensor(target.channel_means or (target.mean,) * 3, dtype=torch.float64)
    _set_linear(last, weight * scale.unsqueeze(1), means - scale * logits.mean(dim=0))
    factors = {f"scale_{name}": scale[i].item() for i, name in enumerate(("start", "end", "inside"))}
    factors["label_effect_rank"] = basis.shape[1]
    return factors


CALIBRATION_RELATIONS: tuple[str, ...] = (
    "works for", "located in", "president of", "headquartered in", "part of", "met with",
)
RELATION_LOGIT_STD = 3.0


def _relation_pairs(model: BaseGLiNER) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Pair representations (last projection output), pair mask and <<REL>> prompts on the calibration texts."""
    prepared = model.prepare_batch(list(CALIBRATION_TEXTS), list(CALIBRATION_LABELS), None, list(CALIBRATION_RELATIONS))
    batch = model.collate_batch(prepared["input_x"], prepared["entity_types"], None, prepared["relation_types"])
    pairs, output = _capture_output(model.model.pair_rep_layer[-1], model, batch)
    return pairs, output.rel_mask.bool(), output.rel_prompts_embedding.detach().double()


@torch.no_grad()
def calibrate_relations(model: BaseGLiNER) -> dict[str, Any]:
    """Spread the relation logits of a pair-projection relation model (``relations_layer: "none"``).

    Random weights put every relation probability within a few hundredths of 0.5 (near ties at
    the usual thresholds). The last layer of the pair projection is centred and rescaled
    (``y' = s P (y - mu)``, the same projection as ``calibrate_span``) so that the relation logits
    of the calibration texts' candidate pairs have mean ~0 and std ``RELATION_LOGIT_STD``: each
    (pair, relation) is then clearly above or below a 0.5 threshold. No offset is added (the
    ``<<REL>>`` prompts are raw encoder outputs, so any constant would differ per relation).
    """
    if not hasattr(model.model, "pair_rep_layer"):
        return {"skipped": "no pair projection (triple scorer)"}
    last: nn.Linear = model.model.pair_rep_layer[-1]
    y, mask, prompts = _relation_pairs(model)
    dim = y.shape[-1]
    mu = y[mask].mean(dim=0)
    e = torch.full((dim,), dim ** -0.5, dtype=torch.float64)
    proj = torch.eye(dim, dtype=torch.float64) - torch.outer(e, e)
    centred = (y - mu) @ proj
    before = torch.cat([(y[i][mask[i]] @ prompts[i].T).reshape(-1) for i in range(y.shape[0])])
    interaction = torch.cat([(centred[i][mask[i]] @ prompts[i].T).reshape(-1) for i in range(y.shape[0])])
    scale = RELATION_LOGIT_STD / interaction.std().item()
    _set_linear(last, scale * proj @ last.weight.double(), scale * proj @ (last.bias.double() - mu))
    y_after, mask_after, prompts_after = _relation_pairs(model)
    after = torch.cat([(y_after[i][mask_after[i]] @ prompts_after[i].T).reshape(-1) for i in range(y.shape[0])])
    return {"relations": list(CALIBRATION_RELATIONS), "scale": scale,
            "before": _summary(before), "after": _summary(after)}


def calibrate(model: BaseGLiNER, target: Calibration) -> dict[str, Any]:
    """Calibrate ``model`` in place; returns the fitted factors and before/after statistics."""
    before = logit_stats(model)
    if model.config.span_mode == "token_level":
        factors = calibrate_token(model, target)
    else:
        factors = calibrate_span(model, target)
    after = logit_stats(model)
    relations = calibrate_relations(model) if getattr(model.config, "relations_layer", None) is not None else None
    return {
        **({"relations": relations} if relations is not None else {}),
        "target": {"mean": target.mean, "std": target.std, "channel_means": target.channel_means},
        "texts": list(CALIBRATION_TEXTS),
        "labels": list(CALIBRATION_LABELS),
        "before": before,
        "after": after,
        "factors": factors,
    }
