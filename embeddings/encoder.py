"""Encoding with sentence-transformers: one model per process, on the best device, in fitted batches."""

from __future__ import annotations

import threading
from collections import OrderedDict

import numpy as np
import torch
from sentence_transformers import SentenceTransformer
from transformers.utils import logging as transformers_logging

from embeddings.chunking import Chunker
from embeddings.registry import RetrieverSpec, RetrieverUnavailable

CPU_BATCH_SIZE = 32
RECENT_QUERIES = 4096  # query texts whose vectors an encoder keeps (a few MB)
QUERY_BATCH_SIZE = 256  # queries are short: large batches encode them several times faster, on CPU too
SPECIAL_TOKENS = 2  # [CLS]/[SEP] or <s>/</s> added around every passage


_models: dict[tuple[str, str, int | None, bool, str | None], SentenceTransformer] = {}
_models_lock = threading.Lock()
_encoders: dict[tuple[str, str, str, int | None], Encoder] = {}


def load_model(
    location: str,
    device: str,
    *,
    max_seq_length: int | None = None,
    trust_remote_code: bool = False,
    revision: str | None = None,
) -> SentenceTransformer:
    """The model at `location` on `device`, loaded once per process and revision (float16 on CUDA).

    A new `revision` of the same folder (weights overwritten by `finetune --overwrite`) loads it anew and
    drops the old one. `max_seq_length` can only lower the model's own limit: its position embeddings set
    the ceiling.
    """
    key = (location, device, max_seq_length, trust_remote_code, revision)
    with _models_lock:
        if key not in _models:
            for old in [k for k in _models if k[:2] == key[:2] and k[4] != revision]:
                del _models[old]
            transformers_logging.disable_progress_bar()  # a weight-loading bar per load is noise here
            try:
                model = SentenceTransformer(
                    location, device=device, trust_remote_code=trust_remote_code, local_files_only=True
                )
            except (OSError, ValueError) as exc:
                raise RetrieverUnavailable(
                    f"could not load a sentence-transformers model from {location}: {exc}"
                ) from None
            if device.startswith("cuda"):
                model.half()
            if max_seq_length and (not model.max_seq_length or max_seq_length < model.max_seq_length):
                model.max_seq_length = max_seq_length
            _models[key] = model
        return _models[key]


def fit_batch_size(model: SentenceTransformer, device: str, max_tokens: int) -> int:
    """A batch size that fills about half of the free GPU memory; a fixed size on CPU and MPS."""
    if not device.startswith("cuda"):
        return CPU_BATCH_SIZE
    free, _ = torch.cuda.mem_get_info(torch.device(device))
    config = getattr(model.transformers_model, "config", None)
    hidden = getattr(config, "hidden_size", 1024)
    heads = getattr(config, "num_attention_heads", 16)
    # float16 activations of one layer (about 8 x hidden per token) plus its attention matrices
    per_sequence = 2 * (max_tokens * hidden * 8 + heads * max_tokens * max_tokens * 2)
    return int(max(8, min(1024, free * 0.5 // per_sequence)))


class Encoder:
    """A retriever's model with its prompts, passage length and batch size."""

    def __init__(self, spec: RetrieverSpec, model: SentenceTransformer, device: str, batch_size: int | None) -> None:
        self.spec = spec
        self.model = model
        self.device = device
        self.max_tokens = model.max_seq_length or 512
        self.batch_size = batch_size or fit_batch_size(model, device, self.max_tokens)
        self.query_batch_size = max(self.batch_size, QUERY_BATCH_SIZE)
        self._recent_queries: OrderedDict[str, np.ndarray] = OrderedDict()
        self._recent_lock = threading.Lock()

    @property
    def dimension(self) -> int:
        return int(self.model.get_embedding_dimension() or 0)

    def chunker(self) -> Chunker:
        """Passages that fit the model together with the document prompt; with `long_documents = "truncate"`,
        only the first, as long as the model reads."""
        prompt_tokens = len(self.model.tokenizer(self.spec.document_prompt, add_special_tokens=False)["input_ids"])
        fits = self.max_tokens - SPECIAL_TOKENS - prompt_tokens
        if self.spec.long_documents == "truncate":
            return Chunker(fits, 0, self.model.tokenizer, first_only=True)
        return Chunker(min(self.spec.chunk_tokens, fits), self.spec.chunk_overlap, self.model.tokenizer)

    def encode_passages(self, texts: list[str]) -> np.ndarray:
        return self._encode(texts, self.spec.document_prompt, "batch_size")

    def encode_queries(self, texts: list[str]) -> np.ndarray:
        """A query is encoded once while it is recent, however many views or rankings ask: both sides of Compare,
        a map's overlay and its hits, the two rankings of the Judge queue. The last `RECENT_QUERIES` texts are
        kept; the ones not kept are encoded in one batch."""
        if not texts:
            return self._encode(texts, self.spec.query_prompt, "query_batch_size")
        with self._recent_lock:
            known = {t: self._recent_queries[t] for t in texts if t in self._recent_queries}
        missing = [t for t in dict.fromkeys(texts) if t not in known]
        if missing:
            known.update(zip(missing, self._encode(missing, self.spec.query_prompt, "query_batch_size"), strict=True))
        with self._recent_lock:
            for text in dict.fromkeys(texts):
                self._recent_queries.pop(text, None)
                self._recent_queries[text] = known[text]
            while len(self._recent_queries) > RECENT_QUERIES:
                self._recent_queries.popitem(last=False)
        return np.stack([known[t] for t in texts])

    def _encode(self, texts: list[str], prompt: str, size: str) -> np.ndarray:
        """float32 vectors, `size` naming the batch size to use; halves it and retries when the device runs out
        of memory."""
        while True:
            try:
                vectors = self.model.encode(
                    texts,
                    prompt=prompt or None,
                    batch_size=getattr(self, size),
                    normalize_embeddings=self.spec.normalize,
                    convert_to_numpy=True,
                    show_progress_bar=False,
                )
                return np.asarray(vectors, dtype=np.float32).reshape(len(texts), -1)
            except (torch.OutOfMemoryError, RuntimeError) as exc:
                if getattr(self, size) == 1 or "out of memory" not in str(exc).lower():
                    raise
                setattr(self, size, getattr(self, size) // 2)
                if self.device.startswith("cuda"):
                    torch.cuda.empty_cache()


def load_encoder(
    spec: RetrieverSpec, location: str, *, device: str, batch_size: int | None = None, revision: str | None = None
) -> Encoder:
    """The Encoder for a dense retriever whose weights are at `location` (see registry.model_location) in
    `revision` (see registry.revision): one per process and setting, so the queries it keeps serve every caller
    (both sides of Compare, the Judge queue's two rankings)."""
    model = load_model(
        location,
        device,
        max_seq_length=spec.max_seq_length,
        trust_remote_code=spec.trust_remote_code,
        revision=revision,
    )
    key = (spec.model_dump_json(), location, device, batch_size)
    with _models_lock:
        encoder = _encoders.get(key)
        if encoder is None or encoder.model is not model:  # new, or its weights were loaded anew
            encoder = _encoders[key] = Encoder(spec, model, device, batch_size)
    return encoder
