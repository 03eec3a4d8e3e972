"""Running an encoder + heads over many texts fast on a CPU.

Texts are normalised, tokenised without padding, sorted by length and batched with
dynamic padding (short posts are not padded to the longest review). Texts longer than
the model's window are split into overlapping windows whose head scores are combined
(max for multilabel heads: a label present anywhere counts; mean for the others), so
nothing is silently truncated.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import torch

from cxnlp.modeling.heads import MultiHeadClassifier
from cxnlp.taxonomy import Taxonomy
from cxnlp.text import Normalizer


def pad_batch(seqs: Sequence[Sequence[int]], pad_id: int) -> tuple[np.ndarray, np.ndarray]:
    """Right-pad token id sequences to the longest one: (input_ids, attention_mask), int64."""
    width = max(len(s) for s in seqs)
    input_ids = np.full((len(seqs), width), pad_id, dtype=np.int64)
    mask = np.zeros((len(seqs), width), dtype=np.int64)
    for r, seq in enumerate(seqs):
        input_ids[r, :len(seq)] = seq
        mask[r, :len(seq)] = 1
    return input_ids, mask


def special_wrapping(tokenizer) -> tuple[list[int], list[int]]:  # noqa: ANN001
    """The special tokens a tokenizer puts before and after a single sequence (e.g.
    `<s>` … `</s>`, `[CLS]` … `[SEP]`), found by encoding a probe with and without them
    (works for every fast tokenizer, whatever its class)."""
    with_sp = tokenizer("a", add_special_tokens=True)["input_ids"]
    bare = tokenizer("a", add_special_tokens=False)["input_ids"]
    for k in range(len(with_sp) - len(bare) + 1):
        if with_sp[k:k + len(bare)] == bare:
            return list(with_sp[:k]), list(with_sp[k + len(bare):])
    raise ValueError("cannot locate the text inside the tokenizer's special-token template")


@dataclass
class Windowed:
    """Token windows of a batch of texts."""

    ids: list[list[int]]
    """Token ids of every window (with special tokens)."""
    owner: list[int]
    """Index of the text each window belongs to."""


Forward = Callable[[np.ndarray, np.ndarray], dict[str, np.ndarray]]
"""(input_ids [B, T] int64, attention_mask [B, T] int64) → {head: logits [B, width]}."""


def torch_forward(model: MultiHeadClassifier) -> Forward:
    """Run a PyTorch multi-head model in inference mode on numpy batches."""

    @torch.inference_mode()
    def forward(input_ids: np.ndarray, attention_mask: np.ndarray) -> dict[str, np.ndarray]:
        out = model(torch.from_numpy(input_ids), torch.from_numpy(attention_mask))
        return {h: v.float().numpy() for h, v in out.items()}

    return forward


class EncoderRunner:
    """Normalise → tokenise → window → batch → forward, returning raw head logits.

    `forward` is any function from numpy token batches to head logits, so the same
    windowing, batching and aggregation serve the PyTorch model and exported runtimes.
    """

    def __init__(self, forward: Forward, taxonomy: Taxonomy, tokenizer, normalizer: Normalizer, *,  # noqa: ANN001
                 max_length: int = 128, text_prefix: str = "", batch_size: int = 32, stride: int = 32) -> None:
        self.forward = forward
        self.taxonomy = taxonomy
        self.tokenizer = tokenizer
        self.normalizer = normalizer
        self.max_length = max_length
        self.text_prefix = text_prefix
        self.batch_size = batch_size
        self.stride = stride
        self._prefix_ids = tokenizer(text_prefix, add_special_tokens=False)["input_ids"] if text_prefix else []
        self._head_ids, self._tail_ids = special_wrapping(tokenizer)

    @classmethod
    def for_torch(cls, model: MultiHeadClassifier, tokenizer, normalizer: Normalizer, **kwargs) -> EncoderRunner:  # noqa: ANN001, ANN003
        model.eval()
        return cls(torch_forward(model), model.taxonomy, tokenizer, normalizer, **kwargs)

    def prepare(self, texts: Sequence[str], langs: Sequence[str | None] | None = None) -> list[str]:
        langs = langs or [None] * len(texts)
        return [self.normalizer(t, lang) for t, lang in zip(texts, langs, strict=True)]

    def window(self, normalized: Sequence[str]) -> Windowed:
        tok = self.tokenizer
        # No truncation: long texts are windowed below (verbose=False: the length warning does not apply).
        body = tok(list(normalized), add_special_tokens=False, truncation=False, verbose=False)["input_ids"]
        n_special = len(self._head_ids) + len(self._tail_ids)
        room = max(self.max_length - n_special - len(self._prefix_ids), 8)
        # Windows overlap by `stride` tokens, but by at most half a window: with a short
        # max_length a larger overlap would leave texts slightly longer than one window with none.
        overlap = min(self.stride, room // 2)
        step = room - overlap
        ids, owner = [], []
        for i, seq in enumerate(body):
            starts = [0] if len(seq) <= room else list(range(0, len(seq) - overlap, step))
            for s in starts:
                piece = self._prefix_ids + seq[s:s + room]
                ids.append(self._head_ids + piece + self._tail_ids)
                owner.append(i)
        return Windowed(ids, owner)

    def window_logits(self, windows: Windowed) -> dict[str, np.ndarray]:
        pad = self.tokenizer.pad_token_id or 0
        order = sorted(range(len(windows.ids)), key=lambda i: len(windows.ids[i]))
        heads = self.taxonomy.head_names
        out: dict[str, list] = {h: [None] * len(order) for h in heads}
        for b in range(0, len(order), self.batch_size):
            idx = order[b:b + self.batch_size]
            logits = self.forward(*pad_batch([windows.ids[i] for i in idx], pad))
            for h in heads:
                for r, i in enumerate(idx):
                    out[h][i] = logits[h][r]
        return {h: np.stack(v) if v else np.zeros((0, 0)) for h, v in out.items()}

    def logits(self, texts: Sequence[str], langs: Sequence[str | None] | None = None,
               normalized: Sequence[str] | None = None) -> dict[str, np.ndarray]:
        """Head logits per text: {head: [N, width]}."""
        normalized = normalized if normalized is not None else self.prepare(texts, langs)
        windows = self.window(normalized)
        per_window = self.window_logits(windows)
        if not normalized:
            return {h.name: np.zeros((0, 0), dtype=np.float32) for h in self.taxonomy.heads}
        # Windows are in text order, so each text's windows form one contiguous run.
        owner = np.asarray(windows.owner)
        starts = np.flatnonzero(np.r_[True, owner[1:] != owner[:-1]])
        counts = np.diff(np.r_[starts, len(owner)])[:, None]
        out = {}
        for head in self.taxonomy.heads:
            wl = per_window[head.name]
            if head.is_multilabel:
                out[head.name] = np.maximum.reduceat(wl, starts, axis=0)
            else:
                out[head.name] = (np.add.reduceat(wl, starts, axis=0) / counts).astype(np.float32)
        return out
