"""DeBERTa-v2/v3's relative-position indexes expanded once per forward pass, shared by every layer.

Each ``DisentangledSelfAttention`` layer of the pinned transformers (4.57) adds two position terms
to its attention scores (``disentangled_attention_bias``)::

    c2p[b, i, j] = c2p_att[b, i, c2p_pos[i, j]]      c2p_att = q · k_posᵀ,  [B·H, L, 2S]
    p2c[b, i, j] = p2c_att[b, j, p2c_pos[j, i]]      p2c_att = k · q_posᵀ,  [B·H, L, 2S]

each a ``torch.gather`` whose [L, L] index is expanded to [B·H, L, L]. The expand's shape is traced
from the layer's own tensors, so the exported graph has a separate Expand (and the index arithmetic
before it) per term and layer, which ONNX Runtime cannot merge: 24 Expands of a B·H·L·L int64 tensor
for a 12-layer model, ~19 MB each for one 450-token window.

Both indexes depend only on ``relative_pos`` (computed once by the encoder) and B·H, which is the
same in every layer, so here the first layer computes and expands them and the others reuse the
same tensors: one index computation and two Expands per forward pass instead of 24. The gathers
are unchanged, so the scores are the same bits. Used for export (``pipeline.write_folder``, the
``factored`` variants); in PyTorch an expand is a free view.

Measured alternative, not kept: one Gather along the flattened rows with an [L·L] flat index (no
Expand at all) is 0.87x the speed on the medium model, ONNX Runtime's Gather with 4-byte inner
blocks being slower than GatherElements (BENCHMARKS.md, "The factored span head").
"""

from __future__ import annotations

import contextlib
import types
from collections.abc import Iterator
from typing import Any

import torch
from torch import nn


def _layers(model: Any) -> list[nn.Module]:
    """The ``DisentangledSelfAttention`` modules of a GLiNER's encoder (empty for other encoders)."""
    try:
        from transformers.models.deberta_v2.modeling_deberta_v2 import DisentangledSelfAttention
    except ImportError:  # pragma: no cover - the pinned transformers has it
        return []
    return [m for m in model.modules() if isinstance(m, DisentangledSelfAttention)]


def supports(model: Any) -> bool:
    """True when the model's encoder is DeBERTa-v2/v3 with both position terms (c2p and p2c)."""
    layers = _layers(model)
    return bool(layers) and all({"c2p", "p2c"} <= set(m.pos_att_type) for m in layers)


class _SharedIndexes:
    """The expanded c2p / p2c indexes of the current ``relative_pos``, made by the first layer that needs them."""

    def __init__(self) -> None:
        self.relative_pos: torch.Tensor | None = None
        self.c2p: torch.Tensor | None = None
        self.p2c: torch.Tensor | None = None

    def get(self, relative_pos: torch.Tensor, att_span: int, rows: int) -> tuple[torch.Tensor, torch.Tensor]:
        if self.relative_pos is not relative_pos or self.c2p is None or self.p2c is None:
            pos = relative_pos.to(torch.long).reshape(relative_pos.size(-2), relative_pos.size(-1))
            c2p_pos = torch.clamp(pos + att_span, 0, att_span * 2 - 1)
            p2c_pos = torch.clamp(-pos + att_span, 0, att_span * 2 - 1)
            self.c2p = c2p_pos.expand([rows, pos.size(0), pos.size(1)])
            self.p2c = p2c_pos.expand([rows, pos.size(0), pos.size(1)])
            self.relative_pos = relative_pos
        return self.c2p, self.p2c


def _bias(self: nn.Module, shared: _SharedIndexes, query_layer: torch.Tensor, key_layer: torch.Tensor,
          relative_pos: torch.Tensor | None, rel_embeddings: torch.Tensor, scale_factor: int) -> torch.Tensor:
    """``DisentangledSelfAttention.disentangled_attention_bias`` for self-attention, with the shared indexes."""
    if relative_pos is None or relative_pos.dim() not in (2, 3) or (relative_pos.dim() == 3 and relative_pos.size(0) != 1):
        raise ValueError("deberta_relpos: expected the encoder's relative_pos of shape [1, L, L]")
    heads = self.num_attention_heads
    att_span = self.pos_ebd_size
    rel = rel_embeddings[0: att_span * 2, :].unsqueeze(0)
    repeat = query_layer.size(0) // heads
    if self.share_att_key:
        pos_query = self.transpose_for_scores(self.query_proj(rel), heads).repeat(repeat, 1, 1)
        pos_key = self.transpose_for_scores(self.key_proj(rel), heads).repeat(repeat, 1, 1)
    else:
        pos_key = self.transpose_for_scores(self.pos_key_proj(rel), heads).repeat(repeat, 1, 1)
        pos_query = self.transpose_for_scores(self.pos_query_proj(rel), heads).repeat(repeat, 1, 1)
    c2p_index, p2c_index = shared.get(relative_pos, att_span, query_layer.size(0))
    scale_c2p = torch.sqrt(torch.tensor(pos_key.size(-1), dtype=torch.float) * scale_factor)
    c2p = torch.gather(torch.bmm(query_layer, pos_key.transpose(-1, -2)), -1, c2p_index)
    score = c2p / scale_c2p.to(dtype=c2p.dtype)
    scale_p2c = torch.sqrt(torch.tensor(pos_query.size(-1), dtype=torch.float) * scale_factor)
    p2c = torch.gather(torch.bmm(key_layer, pos_query.transpose(-1, -2)), -1, p2c_index).transpose(-1, -2)
    return score + p2c / scale_p2c.to(dtype=p2c.dtype)


@contextlib.contextmanager
def installed(model: Any) -> Iterator[bool]:
    """``with installed(model) as on:`` every DeBERTa layer gathers its position terms with the
    shared expanded indexes (``on`` is False, and nothing changes, for other encoders)."""
    layers = _layers(model) if supports(model) else []
    shared = _SharedIndexes()
    for layer in layers:
        layer.disentangled_attention_bias = types.MethodType(
            lambda self, q, k, rp, emb, sf: _bias(self, shared, q, k, rp, emb, sf), layer)
    try:
        yield bool(layers)
    finally:
        for layer in layers:
            layer.__dict__.pop("disentangled_attention_bias", None)
