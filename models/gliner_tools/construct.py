"""Constructing GLiNER instances without the hub.

``GLiNER.load_from_config`` would fetch the tokenizer by ``model_name`` and the
``GLiNER(config)`` meta-constructor fails in gliner 0.2.27 (``__class__``
assignment on an ``nn.Module``), so we do what ``load_from_config`` does, step
by step: resolve the concrete class from the config, build the class's own
config object, and instantiate it with a tokenizer loaded from a local folder
and ``backbone_from_pretrained=False``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch
from gliner import GLiNER, GLiNERConfig
from gliner.model import BaseGLiNER
from transformers import AutoTokenizer, PreTrainedTokenizerBase

from .presets import Preset


def load_tokenizer(tokenizer_dir: Path) -> PreTrainedTokenizerBase:
    """Load a tokenizer from a local folder exactly as ``GLiNER.from_pretrained`` would."""
    tokenizer = AutoTokenizer.from_pretrained(str(tokenizer_dir), local_files_only=True)
    return BaseGLiNER._set_tokenizer_spec_tokens(tokenizer)


def check_tokenizer(tokenizer: PreTrainedTokenizerBase, config: dict[str, Any]) -> None:
    """Fail early if the tokenizer does not match the ids baked into the graph."""
    ent_id = tokenizer.convert_tokens_to_ids(config["ent_token"])
    if ent_id != config["class_token_index"]:
        raise ValueError(f"tokenizer id of {config['ent_token']!r} is {ent_id}, "
                         f"config says {config['class_token_index']}")
    rel_token = config.get("rel_token")
    if config.get("relations_layer") is not None and tokenizer.convert_tokens_to_ids(rel_token) != config["rel_token_index"]:
        raise ValueError(f"tokenizer id of {rel_token!r} is {tokenizer.convert_tokens_to_ids(rel_token)}, "
                         f"config says {config['rel_token_index']}")
    if len(tokenizer) != config["vocab_size"]:
        raise ValueError(f"tokenizer has {len(tokenizer)} ids, config vocab_size is {config['vocab_size']}")


def gliner_class_for(config: dict[str, Any]) -> type[BaseGLiNER]:
    """The concrete GLiNER class the library itself would pick for this config."""
    return GLiNER._get_gliner_class(GLiNERConfig(**{k: v for k, v in config.items() if k != "encoder_config"}))


def build_random(preset: Preset, tokenizer: PreTrainedTokenizerBase, seed: int) -> BaseGLiNER:
    """Build a GLiNER of ``preset``'s architecture with seeded random weights (eval mode, CPU)."""
    config_dict = preset.gliner_config_dict()
    if preset.extra_tokens:
        tokenizer.add_tokens(list(preset.extra_tokens), special_tokens=True)
    check_tokenizer(tokenizer, config_dict)
    cls = gliner_class_for(config_dict)
    config = cls.config_class(**config_dict)
    torch.manual_seed(seed)
    model = cls(config, tokenizer=tokenizer, backbone_from_pretrained=False)
    model.eval()
    return model


def count_parameters(model: BaseGLiNER) -> int:
    return sum(p.numel() for p in model.model.parameters())
