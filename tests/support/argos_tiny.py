"""Build tiny but real Argos Translate packages (``.argosmodel``) from a small parallel corpus.

The tests (and the demo and benchmarks) need a translation model that argostranslate's
package format and CTranslate2 really load, without downloading anything. This module
trains one in seconds on the CPU:

1. a SentencePiece model shared by both languages, trained on the corpus;
2. a small pre-norm Transformer (the architecture of OpenNMT-py, which Argos models use),
   trained with torch until it has memorized the corpus;
3. its weights written into a CTranslate2 ``TransformerSpec`` (no transformers or
   OpenNMT-py needed), saved as ``model/``;
4. ``metadata.json``, ``model/`` and ``sentencepiece.model`` zipped into a
   ``.argosmodel`` the way the Argos package index ships them.

A source sentence listed twice with two translations gives the model two strong
hypotheses, which lets tests exercise choosing among alternatives.

Usage::

    archive = build_package(read_corpus("en-es"), "en", "es", out_dir)
    packages = cached_packages(cache_dir)   # {("en", "es"): Path, ("es", "ca"): Path}
"""

from __future__ import annotations

import functools
import hashlib
import json
import math
import os
import shutil
import tempfile
import zipfile
from collections.abc import Sequence
from pathlib import Path

CORPUS_DIR = Path(__file__).resolve().parent / "argos_corpus"
PAIRS = (("en", "es"), ("es", "ca"))
NAMES = {"en": "English", "es": "Spanish", "ca": "Catalan"}

D_MODEL = 64
HEADS = 4
FFN = 128
LAYERS = 1
MAX_POSITIONS = 128
STEPS = 300
LAYER_NORM_EPS = 1e-6


def read_corpus(name: str) -> list[tuple[str, str]]:
    """Return the (source, target) pairs of ``argos_corpus/<name>.tsv``."""
    pairs = []
    for line in (CORPUS_DIR / f"{name}.tsv").read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            source, target = line.split("\t")
            pairs.append((source, target))
    return pairs


def cached_packages(cache_dir: Path) -> dict[tuple[str, str], Path]:
    """Return the tiny packages for PAIRS, building those not yet in ``cache_dir``.

    Archives are named by a hash of the corpus and of this file, so a changed corpus or
    builder yields a fresh build rather than a stale model.
    """
    packages = {}
    for from_code, to_code in PAIRS:
        corpus = read_corpus(f"{from_code}-{to_code}")
        key = _fingerprint(corpus)
        archive = cache_dir / f"tiny-{from_code}_{to_code}-{key}.argosmodel"
        if not archive.exists():
            for stale in cache_dir.glob(f"tiny-{from_code}_{to_code}-*.argosmodel"):
                stale.unlink()
            built = build_package(corpus, from_code, to_code, cache_dir / f"build-{key}")
            os.replace(built, archive)
            shutil.rmtree(cache_dir / f"build-{key}", ignore_errors=True)
        packages[(from_code, to_code)] = archive
    return packages


def build_package(
    corpus: Sequence[tuple[str, str]],
    from_code: str,
    to_code: str,
    out_dir: Path,
    *,
    steps: int = STEPS,
    seed: int = 0,
) -> Path:
    """Train a tiny model on ``corpus`` and return the path of its ``.argosmodel``."""
    out_dir.mkdir(parents=True, exist_ok=True)
    name = f"translate-{from_code}_{to_code}-tiny"
    with tempfile.TemporaryDirectory(dir=out_dir) as work:
        package_dir = Path(work) / name
        package_dir.mkdir()
        sp_path = package_dir / "sentencepiece.model"
        _train_sentencepiece(corpus, sp_path)
        model = _train_transformer(corpus, sp_path, steps=steps, seed=seed)
        _save_ctranslate2(model, sp_path, package_dir / "model")
        metadata = {
            "package_version": "0.1",
            "argos_version": "1.9",
            "from_code": from_code,
            "from_name": NAMES.get(from_code, from_code),
            "to_code": to_code,
            "to_name": NAMES.get(to_code, to_code),
            "type": "translate",
        }
        (package_dir / "metadata.json").write_text(json.dumps(metadata, indent=2))
        archive = out_dir / f"{name}.argosmodel"
        _zip_dir(package_dir, archive)
    return archive


def _fingerprint(corpus: Sequence[tuple[str, str]]) -> str:
    digest = hashlib.sha256(Path(__file__).read_bytes())
    digest.update(json.dumps(list(corpus), ensure_ascii=False).encode())
    return digest.hexdigest()[:16]


def _train_sentencepiece(corpus: Sequence[tuple[str, str]], path: Path) -> None:
    import sentencepiece as spm

    sentences = [text for pair in corpus for text in pair]
    prefix = path.with_suffix("")
    spm.SentencePieceTrainer.train(
        sentence_iterator=iter(sentences),
        model_prefix=str(prefix),
        vocab_size=400,
        hard_vocab_limit=False,  # a tiny corpus may not support 400 pieces
        model_type="unigram",
        character_coverage=1.0,
        unk_id=0,
        bos_id=1,
        eos_id=2,
        pad_id=3,
        num_threads=1,
        minloglevel=2,
    )
    prefix.with_suffix(".vocab").unlink()


def _train_transformer(corpus, sp_path: Path, *, steps: int, seed: int):
    import sentencepiece as spm
    import torch

    sp = spm.SentencePieceProcessor(model_file=str(sp_path))
    threads = torch.get_num_threads()
    # Tiny matrices gain nothing from threads, and OpenMP threads spinning against other
    # busy processes made a 6 s build take 80 s on a loaded two-core machine.
    torch.set_num_threads(1)
    try:
        return _fit(sp, corpus, steps=steps, seed=seed)
    finally:
        torch.set_num_threads(threads)


def _fit(sp, corpus, *, steps: int, seed: int):
    import torch

    torch.manual_seed(seed)
    model = _tiny_transformer_class()(sp.get_piece_size())
    sources = [sp.encode(s) for s, _ in corpus]
    targets = [sp.encode(t) for _, t in corpus]
    src = _pad(sources, sp.pad_id())
    tgt_in = _pad([[sp.bos_id(), *t] for t in targets], sp.pad_id())
    tgt_out = _pad([[*t, sp.eos_id()] for t in targets], sp.pad_id())
    optimizer = torch.optim.Adam(model.parameters(), lr=3e-3)
    schedule = torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda step: min(1.0, (step + 1) / 50) * max(0.05, 1 - step / steps)
    )
    loss_fn = torch.nn.CrossEntropyLoss(ignore_index=sp.pad_id())
    model.train()
    for _ in range(steps):
        optimizer.zero_grad()
        logits = model(src, tgt_in, sp.pad_id())
        loss = loss_fn(logits.reshape(-1, logits.shape[-1]), tgt_out.reshape(-1))
        loss.backward()
        optimizer.step()
        schedule.step()
    model.eval()
    return model


def _pad(rows: list[list[int]], pad_id: int):
    import torch

    width = max(len(r) for r in rows)
    return torch.tensor([r + [pad_id] * (width - len(r)) for r in rows], dtype=torch.long)


def _sinusoids(length: int, depth: int):
    import numpy as np

    position = np.arange(length)[:, None]
    div = np.exp(np.arange(0, depth, 2) * -(math.log(10000.0) / depth))
    table = np.zeros((length, depth), dtype=np.float32)
    table[:, 0::2] = np.sin(position * div)
    table[:, 1::2] = np.cos(position * div)
    return table


@functools.cache
def _tiny_transformer_class():
    """Define the model class on first use, so importing this module does not import torch."""
    import torch
    from torch import nn

    class TinyTransformer(nn.Module):
        """Pre-norm encoder-decoder laid out as CTranslate2's TransformerSpec computes it."""

        def __init__(self, vocab_size: int) -> None:
            super().__init__()
            self.src_embed = nn.Embedding(vocab_size, D_MODEL)
            self.tgt_embed = nn.Embedding(vocab_size, D_MODEL)
            self.register_buffer("positions", torch.from_numpy(_sinusoids(MAX_POSITIONS, D_MODEL)))
            encoder_layer = nn.TransformerEncoderLayer(
                D_MODEL,
                HEADS,
                FFN,
                dropout=0.0,
                batch_first=True,
                norm_first=True,
                layer_norm_eps=LAYER_NORM_EPS,
            )
            self.encoder = nn.TransformerEncoder(
                encoder_layer,
                LAYERS,
                norm=nn.LayerNorm(D_MODEL, eps=LAYER_NORM_EPS),
                enable_nested_tensor=False,  # nested tensors do not support norm_first
            )
            decoder_layer = nn.TransformerDecoderLayer(
                D_MODEL,
                HEADS,
                FFN,
                dropout=0.0,
                batch_first=True,
                norm_first=True,
                layer_norm_eps=LAYER_NORM_EPS,
            )
            self.decoder = nn.TransformerDecoder(
                decoder_layer, LAYERS, norm=nn.LayerNorm(D_MODEL, eps=LAYER_NORM_EPS)
            )
            self.projection = nn.Linear(D_MODEL, vocab_size)

        def embed(self, table, ids):
            return table(ids) * math.sqrt(D_MODEL) + self.positions[: ids.shape[1]]

        def forward(self, src, tgt, pad_id: int):
            import torch

            src_pad = src == pad_id
            causal = torch.triu(torch.ones(tgt.shape[1], tgt.shape[1], dtype=torch.bool), 1)
            memory = self.encoder(self.embed(self.src_embed, src), src_key_padding_mask=src_pad)
            out = self.decoder(
                self.embed(self.tgt_embed, tgt),
                memory,
                tgt_mask=causal,
                tgt_key_padding_mask=tgt == pad_id,
                memory_key_padding_mask=src_pad,
            )
            return self.projection(out)

    return TinyTransformer


def _save_ctranslate2(model, sp_path: Path, model_dir: Path) -> None:
    import sentencepiece as spm
    from ctranslate2.specs import transformer_spec

    spec = transformer_spec.TransformerSpec.from_config(LAYERS, HEADS)
    spec.config.layer_norm_epsilon = LAYER_NORM_EPS
    _set_embeddings(spec.encoder, model.src_embed, model.positions, many=True)
    _set_embeddings(spec.decoder, model.tgt_embed, model.positions, many=False)
    _set_norm(spec.encoder.layer_norm, model.encoder.norm)
    _set_norm(spec.decoder.layer_norm, model.decoder.norm)
    _set_linear(spec.decoder.projection, model.projection)
    for layer_spec, layer in zip(spec.encoder.layer, model.encoder.layers, strict=True):
        _set_self_attention(layer_spec.self_attention, layer.self_attn, layer.norm1)
        _set_ffn(layer_spec.ffn, layer, layer.norm2)
    for layer_spec, layer in zip(spec.decoder.layer, model.decoder.layers, strict=True):
        _set_self_attention(layer_spec.self_attention, layer.self_attn, layer.norm1)
        _set_cross_attention(layer_spec.attention, layer.multihead_attn, layer.norm2)
        _set_ffn(layer_spec.ffn, layer, layer.norm3)
    sp = spm.SentencePieceProcessor(model_file=str(sp_path))
    vocabulary = [sp.id_to_piece(i) for i in range(sp.get_piece_size())]
    spec.register_source_vocabulary(vocabulary)
    spec.register_target_vocabulary(vocabulary)
    spec.validate()
    spec.optimize(quantization=None)
    model_dir.mkdir()
    spec.save(str(model_dir))


def _array(tensor):
    return tensor.detach().float().numpy().copy()


def _set_embeddings(spec, embedding, positions, *, many: bool) -> None:
    target = spec.embeddings[0] if many else spec.embeddings
    target.weight = _array(embedding.weight)
    spec.position_encodings.encodings = _array(positions)


def _set_norm(spec, norm) -> None:
    spec.gamma = _array(norm.weight)
    spec.beta = _array(norm.bias)


def _set_linear(spec, linear) -> None:
    spec.weight = _array(linear.weight)
    spec.bias = _array(linear.bias)


def _set_self_attention(spec, attention, norm) -> None:
    _set_norm(spec.layer_norm, norm)
    spec.linear[0].weight = _array(attention.in_proj_weight)  # fused query, key, value
    spec.linear[0].bias = _array(attention.in_proj_bias)
    _set_linear(spec.linear[1], attention.out_proj)


def _set_cross_attention(spec, attention, norm) -> None:
    _set_norm(spec.layer_norm, norm)
    weight, bias = attention.in_proj_weight, attention.in_proj_bias
    spec.linear[0].weight = _array(weight[:D_MODEL])  # query
    spec.linear[0].bias = _array(bias[:D_MODEL])
    spec.linear[1].weight = _array(weight[D_MODEL:])  # fused key, value
    spec.linear[1].bias = _array(bias[D_MODEL:])
    _set_linear(spec.linear[2], attention.out_proj)


def _set_ffn(spec, layer, norm) -> None:
    _set_norm(spec.layer_norm, norm)
    _set_linear(spec.linear_0, layer.linear1)
    _set_linear(spec.linear_1, layer.linear2)


def _zip_dir(package_dir: Path, archive: Path) -> None:
    partial = archive.with_suffix(".partial")
    with zipfile.ZipFile(partial, "w", zipfile.ZIP_DEFLATED) as zf:
        for path in sorted(package_dir.rglob("*")):
            zf.write(path, path.relative_to(package_dir.parent).as_posix())
    os.replace(partial, archive)
