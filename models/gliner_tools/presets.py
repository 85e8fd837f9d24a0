"""Architectures of the random-weight models we build.

All presets share the real DeBERTa-v3 GLiNER vocabulary (128,004 ids, ``<<ENT>>``
= 128002) so that token ids, ``words_mask`` and prompt layout match the
published ``gliner_medium-v2.1`` / ``gliner_medium_news-v2.1`` exports exactly;
only the widths differ.  The encoder is described by an explicit DeBERTa-v2
config dict so that nothing is fetched from the hub.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Any

VOCAB_SIZE = 128004
CLASS_TOKEN_INDEX = 128002
REL_TOKEN = "<<REL>>"
RELEX_VOCAB_SIZE = VOCAB_SIZE + 1
"""Relation models add ``<<REL>>`` after ``<<SEP>>``: id 128004 (gliner's ``rel_token_index = len - 1``)."""

# microsoft/deberta-v3-base config.json, with the vocabulary resized the way
# GLiNER resizes it (128,000 SentencePiece pieces + [MASK], [FLERT], <<ENT>>, <<SEP>>).
DEBERTA_V3_BASE: dict[str, Any] = {
    "model_type": "deberta-v2",
    "attention_probs_dropout_prob": 0.1,
    "hidden_act": "gelu",
    "hidden_dropout_prob": 0.1,
    "hidden_size": 768,
    "initializer_range": 0.02,
    "intermediate_size": 3072,
    "layer_norm_eps": 1e-7,
    "max_position_embeddings": 512,
    "max_relative_positions": -1,
    "norm_rel_ebd": "layer_norm",
    "num_attention_heads": 12,
    "num_hidden_layers": 12,
    "pad_token_id": 0,
    "pooler_dropout": 0,
    "pooler_hidden_act": "gelu",
    "pooler_hidden_size": 768,
    "pos_att_type": ["p2c", "c2p"],
    "position_biased_input": False,
    "position_buckets": 256,
    "relative_attention": True,
    "share_att_key": True,
    "type_vocab_size": 0,
    "vocab_size": VOCAB_SIZE,
}

# The GLiNER part shared by every preset: the fields gliner_medium-v2.1 /
# gliner_medium_news-v2.1 carry, plus the token fields newer configs carry
# explicitly (class_token_index, vocab_size, ent/sep tokens) so an engine never
# has to fall back to defaults.
GLINER_BASE: dict[str, Any] = {
    "model_name": "microsoft/deberta-v3-base",
    "name": "gliner",
    "max_width": 12,
    "hidden_size": 512,
    "dropout": 0.4,
    "fine_tune": True,
    "subtoken_pooling": "first",
    "span_mode": "markerV0",
    "post_fusion_schema": "",
    "num_post_fusion_layers": 1,
    "vocab_size": VOCAB_SIZE,
    "max_neg_type_ratio": 1,
    "max_types": 25,
    "max_len": 384,
    "words_splitter_type": "whitespace",
    "num_rnn_layers": 1,
    "has_rnn": True,
    "fuse_layers": False,
    "embed_ent_token": True,
    "class_token_index": CLASS_TOKEN_INDEX,
    "ent_token": "<<ENT>>",
    "sep_token": "<<SEP>>",
    "labels_encoder": None,
    "labels_decoder": None,
    "relations_layer": None,
}


@dataclass(frozen=True)
class Calibration:
    """Target distribution of the logits on the calibration sentences.

    ``mean``/``std`` are measured over every valid (span or word, label) pair
    (and, for token models, over the start/end/inside channels separately).
    """

    mean: float
    std: float
    channel_means: tuple[float, float, float] | None = None
    """Token models only: separate target means for the start, end and inside outputs."""


@dataclass(frozen=True)
class Preset:
    """One buildable architecture."""

    name: str
    description: str
    encoder: dict[str, Any]
    gliner: dict[str, Any]
    calibration: Calibration
    default_out: str
    expected_params: int | None = None
    notes: tuple[str, ...] = field(default_factory=tuple)
    extra_tokens: tuple[str, ...] = ()
    """Special tokens added to the fixture tokenizer before building (relation models: ``<<REL>>``)."""

    def gliner_config_dict(self) -> dict[str, Any]:
        """Full config dict (GLiNER fields + ``encoder_config``), a fresh deep copy."""
        config = copy.deepcopy(self.gliner)
        config["encoder_config"] = copy.deepcopy(self.encoder)
        return config

    @property
    def is_relex(self) -> bool:
        return self.gliner.get("relations_layer") is not None

    @property
    def is_token_level(self) -> bool:
        return self.gliner["span_mode"] == "token_level"


def _tiny_encoder() -> dict[str, Any]:
    """A 2-layer, 16-wide DeBERTa-v3 with the full vocabulary and v3 relative attention.

    ``initializer_range`` is raised from 0.02 to 0.3: with the standard init a
    tiny random encoder attends almost uniformly, so every ``<<ENT>>`` token
    comes out nearly identical and the label barely changes any score (label
    spread per span ~0.02 logits after calibration).  At 0.3 the attention is
    peaked, prompts differ per label, and labels disagree by ~1 logit.
    """
    enc = copy.deepcopy(DEBERTA_V3_BASE)
    enc.update(
        initializer_range=0.3,
        hidden_size=16,
        intermediate_size=64,
        num_attention_heads=2,
        num_hidden_layers=2,
        pooler_hidden_size=16,
    )
    return enc


def _relex_encoder() -> dict[str, Any]:
    enc = _tiny_encoder()
    enc["vocab_size"] = RELEX_VOCAB_SIZE
    return enc


def _gliner(**overrides: Any) -> dict[str, Any]:
    config = copy.deepcopy(GLINER_BASE)
    config.update(overrides)
    return config


def _relex_gliner(hidden_size: int, relations_layer: str, triples_layer: str | None) -> dict[str, Any]:
    """A span relation model's GLiNER fields: ``<<REL>>`` after ``<<SEP>>`` in the vocabulary."""
    return _gliner(hidden_size=hidden_size, span_mode="markerV0", max_len=384, vocab_size=RELEX_VOCAB_SIZE,
                   relations_layer=relations_layer, triples_layer=triples_layer, rel_token=REL_TOKEN,
                   rel_token_index=RELEX_VOCAB_SIZE - 1, embed_rel_token=True)


PRESETS: dict[str, Preset] = {
    "tiny-span": Preset(
        name="tiny-span",
        description="span (markerV0) GLiNER, tiny DeBERTa-v3 encoder (2 layers x 16), full vocabulary",
        encoder=_tiny_encoder(),
        gliner=_gliner(hidden_size=32, span_mode="markerV0", max_len=384),
        calibration=Calibration(mean=-3.0, std=2.0),
        default_out="models/build/tiny-span",
    ),
    "tiny-token": Preset(
        name="tiny-token",
        description="token-level GLiNER, tiny DeBERTa-v3 encoder (2 layers x 16), full vocabulary, max_len 256",
        encoder=_tiny_encoder(),
        # max_len deliberately differs from 384 so an engine must read it from the config.
        gliner=_gliner(hidden_size=32, span_mode="token_level", max_len=256),
        calibration=Calibration(mean=-1.0, std=2.0, channel_means=(-1.0, -1.0, 1.0)),
        default_out="models/build/tiny-token",
    ),
    "tiny-span-relex": Preset(
        name="tiny-span-relex",
        description="span (markerV0) GLiNER relation model (gliner_uni_encoder_span_relex) of the "
                    "gliner-relex v1.0 layout: relations_layer 'none' (every entity pair), pair projection "
                    "scored against <<REL>> prompts; tiny DeBERTa-v3 encoder, full vocabulary + <<REL>>",
        encoder=_relex_encoder(),
        gliner=_relex_gliner(32, "none", None),
        calibration=Calibration(mean=-3.0, std=2.0),
        default_out="models/build/tiny-span-relex",
        extra_tokens=(REL_TOKEN,),
    ),
    "tiny-span-relex-adjacency": Preset(
        name="tiny-span-relex-adjacency",
        description="span GLiNER relation model with an adjacency layer (relations_layer 'bilinear': pairs "
                    "above the adjacency threshold) and a triple scorer (DistMult); tiny encoder",
        encoder=_relex_encoder(),
        gliner=_relex_gliner(32, "bilinear", "DistMult"),
        calibration=Calibration(mean=-3.0, std=2.0),
        default_out="models/build/tiny-span-relex-adjacency",
        extra_tokens=(REL_TOKEN,),
    ),
    "medium-relex": Preset(
        name="medium-relex",
        description="the gliner_medium architecture (DeBERTa-v3-base) as a relation model of the gliner-relex "
                    "v1.0 layout (relations_layer 'none', pair projection), random weights: for cost measurements",
        encoder={**copy.deepcopy(DEBERTA_V3_BASE), "vocab_size": RELEX_VOCAB_SIZE},
        gliner=_relex_gliner(512, "none", None),
        calibration=Calibration(mean=-3.0, std=2.0),
        default_out="models/build/medium-relex-random",
        extra_tokens=(REL_TOKEN,),
    ),
    "medium": Preset(
        name="medium",
        description="gliner_medium-v2.1 / gliner_medium_news-v2.1 architecture with random weights",
        encoder=copy.deepcopy(DEBERTA_V3_BASE),
        gliner=_gliner(hidden_size=512, span_mode="markerV0", max_len=384),
        calibration=Calibration(mean=-3.0, std=2.0),
        default_out="models/build/gliner_medium_news-v2.1-random",
        expected_params=195_175_936,
    ),
}
