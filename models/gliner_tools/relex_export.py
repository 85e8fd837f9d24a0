"""ONNX export of GLiNER relation models (``UniEncoderSpanRelexGLiNER``) that works for every input.

Why not gliner's own ``export_to_onnx``: in gliner 0.2.27 it traces the model's forward
(TorchScript exporter), and the relation part of that forward takes Python values from tensors
(``lengths.max().item()`` when packing the spans above the entity threshold, ``.item()`` and
``if n < 2`` per example when building entity pairs, ``for b in range(B)`` over the batch). A
trace freezes those values, so the exported graph only runs inputs with as many candidate
entities as the dummy text had; any other input fails in ONNX Runtime
(``ScatterND ... invalid indice``) or is silently wrong (measured: ``models/relex_golden.py``
``--reference-export-check``).

This module keeps everything else of the reference: the model's own layers (encoder, prompt and
span layers, adjacency layer, pair or triple scorer), the reference's pre-processing for the
trace batch, ``_get_onnx_input_spec`` (the same six inputs and four outputs: ``logits, rel_idx,
rel_logits, rel_mask``), ``_run_torch_onnx_export`` and the side files. Only the glue between the
layers is re-expressed with shape-polymorphic tensor operations (cumulative-sum packing,
``arange`` over a tensor length, masks instead of per-example loops), computing the same values
as ``UniEncoderSpanRelexModel.forward``:

* candidates: spans whose best label probability is ``> entity_threshold`` and inside
  ``span_mask``, packed in flat (start, width) order; padded examples of a batch get zero rows;
* pairs: every ordered pair ``(i, j)``, ``i != j``, row-major, of an example's candidates
  (``relations_layer: "none"``), or those whose adjacency probability is ``> adjacency_threshold``
  (any other ``relations_layer``); at least one (masked) pair per batch, as in the reference;
* ``rel_logits``: the pair projection against the ``<<REL>>`` prompt embeddings, or the triple
  scorer.

Both thresholds are constants of the graph (the reference's wrapper passes none, so its forward
runs with 0.5); they are written to ``gliner_config.json`` as ``onnx_entity_threshold`` and
``onnx_adjacency_threshold`` so an engine knows which spans the graph packed.

One difference from the reference, on purpose: a memory bound. The pairs are every ordered pair of
candidates, so their memory grows with the square of the candidate count; a window with thousands
of candidates (a random or badly calibrated head: measured, DeBERTa-base relex, OOM-killed at
24 GB) would take the whole machine. The graph keeps at most ``max_candidates`` (256 by default,
``onnx_max_candidates`` in ``gliner_config.json``: 65,280 pairs) per example: those with the
highest best-label logit, ties at the last place kept, still in (start, width) order. Below the
bound (a trained model finds far fewer entities in a 384-word window) the graph computes exactly
the reference's values.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
from gliner.model import BaseGLiNER
from gliner.modeling.utils import extract_prompt_features
from torch import nn

DEFAULT_MAX_CANDIDATES = 256
"""Candidates per example the graph pairs at most (its memory bound; see the module text)."""

TRACE_TEXT = ("Angela Merkel met Emmanuel Macron and Mark Rutte in Paris on Monday, where Airbus and "
              "the European Union announced a deal.")
TRACE_LABELS = ["person", "organization", "location"]
TRACE_RELATIONS = ["met with", "located in"]


def _pack(values: torch.Tensor, keep: torch.Tensor, width: torch.Tensor) -> torch.Tensor:
    """Move the kept rows of ``values`` (B, N, F) to the front, in order; returns (B, width, F).

    Rows past an example's own count are zero. Slot 0 of the scatter buffer collects the rows
    that are not kept and is dropped, so no size has to be known at trace time; one spare slot
    at the end lets ``width`` be 1 when nothing is kept.
    """
    target = torch.where(keep, torch.cumsum(keep.long(), dim=1), torch.zeros_like(keep, dtype=torch.long))
    buffer = torch.zeros_like(F.pad(values, (0, 0, 1, 1)))
    buffer = buffer.scatter(1, target.unsqueeze(-1).expand_as(values), values)
    return torch.index_select(buffer, 1, torch.arange(width) + 1)


class TraceableSpanRelex(nn.Module):
    """``UniEncoderSpanRelexModel`` inference forward, expressed without trace-time constants."""

    def __init__(self, core: nn.Module, entity_threshold: float, adjacency_threshold: float,
                 max_candidates: int = DEFAULT_MAX_CANDIDATES) -> None:
        super().__init__()
        self.core = core
        self.entity_threshold = entity_threshold
        self.adjacency_threshold = adjacency_threshold
        self.max_candidates = max_candidates

    def forward(self, input_ids, attention_mask, words_mask, text_lengths, span_idx, span_mask):
        core = self.core
        config = core.config
        token_embeds = core.token_rep_layer(input_ids, attention_mask)
        prompts, _prompts_mask, words, mask = core._extract_prompt_features_and_word_embeddings(
            token_embeds, input_ids, attention_mask, text_lengths, words_mask)
        if hasattr(core, "rnn"):
            words = core.rnn(words, mask)
        prompts = core.prompt_rep_layer(prompts)

        span_idx = span_idx * span_mask.unsqueeze(-1).long()
        span_rep = core.span_rep_layer(words, span_idx)  # (B, L, K, D)
        scores = torch.einsum("BLKD,BCD->BLKC", span_rep, prompts)

        batch = span_rep.size(0)
        dim = span_rep.size(-1)
        flat_rep = span_rep.reshape(batch, -1, dim)
        keep = (torch.sigmoid(scores).max(dim=-1).values.reshape(batch, -1) > self.entity_threshold) \
            & span_mask.reshape(batch, -1).bool()
        # The memory bound: at most max_candidates per example, by best-label logit (ties kept).
        best = scores.max(dim=-1).values.reshape(batch, -1)
        ranked = torch.where(keep, best, torch.full_like(best, float("-inf")))
        ranked = F.pad(ranked, (0, self.max_candidates), value=float("-inf"))  # at least max_candidates columns
        last = torch.topk(ranked, self.max_candidates, dim=1).values[:, -1:]
        keep = keep & (best >= last)
        counts = keep.long().sum(dim=1)  # (B,)
        width = counts.max()
        entity_rep = _pack(flat_rep, keep, width)  # (B, E, D)
        slots = torch.arange(width)
        entity_mask = slots.unsqueeze(0) < counts.unsqueeze(1)  # (B, E)

        rel_prompts, _ = extract_prompt_features(config.rel_token_index, token_embeds, input_ids, attention_mask,
                                                 batch, prompts.size(-1), config.embed_rel_token)

        rows = slots.unsqueeze(1) + slots.unsqueeze(0) * 0  # (E, E): i
        cols = slots.unsqueeze(0) + slots.unsqueeze(1) * 0  # (E, E): j
        off_diagonal = (rows != cols).unsqueeze(0)
        if hasattr(core, "relations_rep_layer"):
            adjacency = core.relations_rep_layer(entity_rep, entity_mask.long())
            valid = off_diagonal & (adjacency > self.adjacency_threshold)
        else:
            valid = off_diagonal & entity_mask.unsqueeze(2) & entity_mask.unsqueeze(1)
        valid = valid.reshape(batch, -1)  # (B, E*E), row-major like the reference
        pair_counts = valid.long().sum(dim=1)
        pair_width = torch.clamp(pair_counts.max(), min=1)
        grid = torch.stack([rows.reshape(-1), cols.reshape(-1)], dim=-1).unsqueeze(0) \
            + counts.view(-1, 1, 1) * 0  # (B, E*E, 2)
        rel_mask = torch.arange(pair_width).unsqueeze(0) < pair_counts.unsqueeze(1)  # (B, P)
        packed = _pack(grid, valid, pair_width)
        rel_idx = torch.where(rel_mask.unsqueeze(-1), packed, torch.full_like(packed, -1))

        # Pair embeddings: padding pairs read entity 0 (the reference clamps -1 to 0), or zeros
        # when no example of the batch has a pair (the reference's empty case).
        padded_rep = torch.cat([entity_rep, torch.zeros_like(flat_rep[:, :1])], dim=1)
        gather_idx = torch.clamp(rel_idx, min=0)
        head = torch.gather(padded_rep, 1, gather_idx[..., 0:1].expand(-1, -1, dim))
        tail = torch.gather(padded_rep, 1, gather_idx[..., 1:2].expand(-1, -1, dim))
        any_pair = (pair_counts.max() > 0).to(head.dtype)
        head, tail = head * any_pair, tail * any_pair

        if hasattr(core, "pair_rep_layer"):
            pair_rep = core.pair_rep_layer(torch.cat((head, tail), dim=-1))
            rel_logits = torch.einsum("BND,BCD->BNC", pair_rep, rel_prompts)
        else:
            # One zero prompt is appended and its scores dropped again: with no relation asked a
            # Reshape to (B, P, 0) would read 0 as "copy this dimension" (ONNX Reshape, allowzero 0).
            prompts_1 = torch.cat([rel_prompts, torch.zeros_like(flat_rep[:, :1])], dim=1)
            classes = prompts_1.size(1)
            h = head.unsqueeze(2).expand(-1, -1, classes, -1).reshape(-1, dim)
            t = tail.unsqueeze(2).expand(-1, -1, classes, -1).reshape(-1, dim)
            r = prompts_1.unsqueeze(1).expand(-1, head.size(1), -1, -1).reshape(-1, dim)
            rel_logits = core.triples_score_layer(h, r, t).reshape(batch, -1, classes)[:, :, :-1]
        return scores, rel_idx, rel_logits, rel_mask


def trace_batch(model: BaseGLiNER) -> dict[str, Any]:
    """The reference's own inference pre-processing for one text with labels and relations."""
    prepared = model.prepare_batch([TRACE_TEXT], TRACE_LABELS, None, TRACE_RELATIONS)
    batch = model.collate_batch(prepared["input_x"], prepared["entity_types"], None, prepared["relation_types"])
    return batch


def export_relex(model: BaseGLiNER, save_dir: Path, onnx_filename: str = "model.onnx", opset: int = 19,
                 entity_threshold: float = 0.5, adjacency_threshold: float = 0.5,
                 max_candidates: int = DEFAULT_MAX_CANDIDATES) -> Path:
    """Export ``model`` (a span relex GLiNER) to ``save_dir`` like ``export_to_onnx`` does."""
    if model.config.span_mode == "token_level":
        raise ValueError("token-level relation models (UniEncoderTokenRelexGLiNER) are not exported by this tool")
    save_dir.mkdir(parents=True, exist_ok=True)
    onnx_path = save_dir / onnx_filename
    core = model.model.to("cpu").eval()
    batch = trace_batch(model)
    spec = model._get_onnx_input_spec()
    inputs = tuple(batch[name] for name in spec["input_names"])
    wrapper = TraceableSpanRelex(core, entity_threshold, adjacency_threshold, max_candidates)
    model._run_torch_onnx_export(wrapper, inputs, spec["input_names"], spec["output_names"],
                                 spec["dynamic_axes"], onnx_path, opset)
    model.config.onnx_entity_threshold = entity_threshold
    model.config.onnx_adjacency_threshold = adjacency_threshold
    model.config.onnx_max_candidates = max_candidates
    model.config.to_json_file(save_dir / "gliner_config.json")
    model.data_processor.transformer_tokenizer.save_pretrained(save_dir)
    return onnx_path
