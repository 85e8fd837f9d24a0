"""DeBERTa-v2/v3's relative-position gathers without expanded indexes, shared by every layer.

Each ``DisentangledSelfAttention`` layer of the pinned transformers (4.57) adds two position terms
to its attention scores (``disentangled_attention_bias``)::

    c2p[b, i, j] = c2p_att[b, i, c2p_pos[i, j]]      c2p_att = q · k_posᵀ,  [B·H, L, 2S]
    p2c[b, i, j] = p2c_att[b, j, p2c_pos[j, i]]      p2c_att = k · q_posᵀ,  [B·H, L, 2S]

and writes each as ``torch.gather`` with the [L, L] index *expanded* to [B·H, L, L] (the expand's
shape comes from the layer's own tensors, so the exported graph has a separate Expand of a
B·H·L·L int64 tensor per term and layer: 24 for a 12-layer model, ~19 MB each for one 450-token
window), then transposes p2c.

The same values, read differently: with the rows of ``c2p_att`` laid end to end ([B·H, L·2S]),
element (i, j) is at ``i·2S + c2p_pos[i, j]``, the same flat offset for every batch row and head, so
one ``Gather`` along axis 1 with an [L·L] index reads the term; p2c's index is that of ``p2c_pos``,
transposed, which also removes the transpose. Both indexes depend only on ``relative_pos``, which
the encoder computes once, so they are computed once and every layer reuses them.

A Gather copies the elements the reference's GatherElements copies, so the scores are the same
bits; only the index arithmetic changes. Used for export only (``pipeline.write_folder``, the
``factored`` variants): in PyTorch the expand is a free view.
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


def _flat_index(pos: torch.Tensor, width: int) -> torch.Tensor:
    """pos [L, K] (values in [0, width)) -> offsets [L, K] into rows of ``width`` laid end to end."""
    rows = torch.arange(pos.size(0), dtype=pos.dtype, device=pos.device).unsqueeze(1)
    return rows * width + pos


class _SharedIndexes:
    """The flat c2p / p2c indexes of the current ``relative_pos``, made by the first layer that needs them."""

    def __init__(self) -> None:
        self.relative_pos: torch.Tensor | None = None
        self.c2p: torch.Tensor | None = None
        self.p2c: torch.Tensor | None = None

    def get(self, relative_pos: torch.Tensor, att_span: int) -> tuple[torch.Tensor, torch.Tensor]:
        if self.relative_pos is not relative_pos or self.c2p is None or self.p2c is None:
            pos = relative_pos.to(torch.long).reshape(relative_pos.size(-2), relative_pos.size(-1))
            c2p_pos = torch.clamp(pos + att_span, 0, att_span * 2 - 1)
            p2c_pos = torch.clamp(-pos + att_span, 0, att_span * 2 - 1)
            self.c2p = _flat_index(c2p_pos, att_span * 2).reshape(-1)
            self.p2c = _flat_index(p2c_pos, att_span * 2).transpose(0, 1).reshape(-1)
            self.relative_pos = relative_pos
        return self.c2p, self.p2c


def _read(att: torch.Tensor, index: torch.Tensor, length: int) -> torch.Tensor:
    """att [B·H, L, 2S] read at flat ``index`` [L·L] -> [B·H, L, L]."""
    rows = att.size(0)
    return att.reshape(rows, -1).index_select(1, index).view(rows, length, length)


def _bias(self: nn.Module, shared: _SharedIndexes, query_layer: torch.Tensor, key_layer: torch.Tensor,
          relative_pos: torch.Tensor | None, rel_embeddings: torch.Tensor, scale_factor: int) -> torch.Tensor:
    """``DisentangledSelfAttention.disentangled_attention_bias`` for self-attention, shared flat indexes."""
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
    c2p_index, p2c_index = shared.get(relative_pos, att_span)
    length = query_layer.size(1)
    scale_c2p = torch.sqrt(torch.tensor(pos_key.size(-1), dtype=torch.float) * scale_factor)
    c2p = _read(torch.bmm(query_layer, pos_key.transpose(-1, -2)), c2p_index, length)
    score = c2p / scale_c2p.to(dtype=c2p.dtype)
    scale_p2c = torch.sqrt(torch.tensor(pos_query.size(-1), dtype=torch.float) * scale_factor)
    p2c = _read(torch.bmm(key_layer, pos_query.transpose(-1, -2)), p2c_index, length)
    return score + p2c / scale_p2c.to(dtype=p2c.dtype)


@contextlib.contextmanager
def installed(model: Any) -> Iterator[bool]:
    """``with installed(model) as on:`` every DeBERTa layer reads its position terms through the
    shared flat indexes (``on`` is False, and nothing changes, for other encoders)."""
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
