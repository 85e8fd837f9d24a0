"""GLiNER's markerV0 span head, factored: the reference's logits for a fraction of its arithmetic.

The reference span model (``gliner.modeling.span_rep.SpanMarkerV0`` inside
``UniEncoderSpanModel.forward``) scores span (i, j) against label c as

    s = P_start(h), e = P_end(h)                      per word, width D
    x = relu([s_i ; e_j])                             per span, 2D
    r = W2 · dropout(relu(W1 · x + b1)) + b2          per span, hidden 4D, out D
    logit = r · p_c                                   per span and label (p = prompt projection)

Two identities remove almost all per-span matrix work:

* ``W1 · x = W1[:, :D] · relu(s_i) + W1[:, D:] · relu(e_j)``: the first layer runs once per
  *word* (two L×D×4D products) and is gathered per span, instead of once per *span*
  (L·K×2D×4D, K = max_width = 12 spans per word);
* ``r · p_c = hidden · (W2ᵀ · p_c) + b2 · p_c``: the second layer folds into the C labels, so a
  span costs 4D·C multiply-adds instead of 4D·D plus D·C.

Same parameters, same checkpoint format, same ONNX inputs and ``logits`` output; the values
differ from the reference only by float summation order (ONNX, medium architecture: 5.0e-5 on
the export's check batch, where fp32 ONNX vs torch is 1.2e-4), and so do the gradients (7e-7
relative on a checked training batch), which is why ``train.py`` trains with it (the saved
checkpoint is an ordinary GLiNER) and ``export_onnx.py --variants factored`` exports it. The four
dropouts (start, end, the span hidden layer between its ReLU and W2, the prompt projection) are
drawn in the reference's order with the reference's shapes, so training sees the same masks.

Only ``UniEncoderSpanModel`` with ``span_mode == "markerV0"`` is factored (what the news models
and this project's trained model are); ``install`` refuses anything else.
"""

from __future__ import annotations

import contextlib
import types
from collections.abc import Iterator
from typing import Any

import torch
from torch import nn


def supports(model: Any) -> bool:
    """True when ``model`` (a GLiNER or its core ``model.model``) has the head this module factors."""
    from gliner.modeling.base import UniEncoderSpanModel

    core = getattr(model, "model", model)
    return type(core) is UniEncoderSpanModel and getattr(core.config, "span_mode", None) == "markerV0"


def _gather_rows(values: torch.Tensor, index: torch.Tensor) -> torch.Tensor:
    """values [B, W, F], index [B, S] (0 <= index < W) -> [B, S, F], as one row Gather."""
    batch, width, features = values.shape
    offsets = (torch.arange(batch, device=index.device) * width).unsqueeze(1)
    flat = values.reshape(batch * width, features)
    return flat.index_select(0, (index + offsets).reshape(-1)).view(batch, index.size(1), features)


def span_logits(span_layer: nn.Module, prompt_layer: nn.Module, words: torch.Tensor,
                span_idx: torch.Tensor, prompts: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Logits [B, W, K, C] and projected prompts [B, C, D], as the reference computes them.

    ``span_layer`` is the ``SpanMarkerV0`` module, ``prompt_layer`` the model's
    ``prompt_rep_layer``; ``span_idx`` [B, W*K, 2] is already masked (invalid spans point at 0).
    """
    first, _relu, dropout, second = span_layer.out_project  # Linear(2D, 4D), ReLU, Dropout, Linear(4D, D)
    batch, width = words.shape[0], words.shape[1]
    # A Python int, not the traced shape: the weight halves below then fold into initializers.
    dim = first.in_features // 2
    starts = span_layer.project_start(words).relu()
    ends = span_layer.project_end(words).relu()
    at_start = nn.functional.linear(starts, first.weight[:, :dim], first.bias)   # [B, W, 4D]
    at_end = nn.functional.linear(ends, first.weight[:, dim:])                  # [B, W, 4D]
    hidden = _gather_rows(at_start, span_idx[:, :, 0]) + _gather_rows(at_end, span_idx[:, :, 1])
    hidden = dropout(hidden.relu())                                             # [B, W*K, 4D]
    projected = prompt_layer(prompts)                                           # [B, C, D]
    folded = torch.matmul(projected, second.weight)                             # [B, C, 4D]
    # A product, not a MatMul with a 1-D weight: per-channel int8 quantisation cannot take that one.
    bias = (projected * second.bias).sum(-1)                                    # [B, C]
    logits = torch.matmul(hidden, folded.transpose(1, 2)) + bias.unsqueeze(1)   # [B, W*K, C]
    return logits.view(batch, width, span_layer.max_width, -1), projected


def _forward(self: nn.Module, input_ids=None, attention_mask=None, words_embedding=None, mask=None,
             prompts_embedding=None, prompts_embedding_mask=None, words_mask=None, text_lengths=None,
             span_idx=None, span_mask=None, labels=None, **kwargs: Any):
    """``UniEncoderSpanModel.forward`` of the pinned gliner, with the span head factored."""
    from gliner.modeling.outputs import GLiNERBaseOutput

    encoder_kwargs = {key: kwargs[key] for key in
                      ("packing_config", "pair_attention_mask", "token_lengths", "word_lengths") if key in kwargs}
    prompts_embedding, prompts_embedding_mask, words_embedding, mask = self.get_representations(
        input_ids, attention_mask, text_lengths, words_mask, **encoder_kwargs)
    words_embedding, mask = self._fit_length(words_embedding, mask, span_idx.size(1) // self.config.max_width)
    span_idx = span_idx * span_mask.unsqueeze(-1)
    target_c = prompts_embedding.size(1)
    if labels is not None:
        target_c = max(target_c, labels.size(-1))
    prompts_embedding, prompts_embedding_mask = self._fit_length(prompts_embedding, prompts_embedding_mask, target_c)
    scores, projected = span_logits(self.span_rep_layer.span_rep_layer, self.prompt_rep_layer,
                                    words_embedding, span_idx, prompts_embedding)
    loss = None
    if labels is not None:
        loss = self.loss(scores, labels, prompts_embedding_mask, span_mask, **kwargs)
    return GLiNERBaseOutput(logits=scores, loss=loss, prompts_embedding=projected,
                            prompts_embedding_mask=prompts_embedding_mask, words_embedding=words_embedding,
                            mask=mask)


def install(model: Any) -> None:
    """Make ``model`` (a GLiNER) run the factored head from now on; refuses other architectures."""
    if not supports(model):
        core = getattr(model, "model", model)
        raise ValueError(f"the factored span head needs a UniEncoderSpanModel with span_mode markerV0, "
                         f"not {type(core).__name__} / {getattr(core.config, 'span_mode', None)}")
    model.model.forward = types.MethodType(_forward, model.model)


def uninstall(model: Any) -> None:
    """Back to the reference forward."""
    model.model.__dict__.pop("forward", None)


@contextlib.contextmanager
def installed(model: Any) -> Iterator[None]:
    """``with installed(model):`` the factored head inside, the reference's after."""
    install(model)
    try:
        yield
    finally:
        uninstall(model)
