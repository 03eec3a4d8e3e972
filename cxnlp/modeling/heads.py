"""The multi-head classifier: one shared encoder, pooling, one head per taxonomy head.

Heads are built from the taxonomy, so a user's own YAML gives a model with matching
heads and no code change. Each head produces raw scores ("logits") of a kind-specific
shape; `cxnlp.modeling.decoding` turns them into probabilities and labels, and
`cxnlp.modeling.losses` into a training loss.

Ordinal heads use cumulative logits (one score s and K-1 ordered cut-points θ):
P(y > k) = σ(s − θ_k). This keeps "low < medium < high" ordered, which a plain softmax
does not, and yields an expected value on the 0…K-1 scale.

Pooling turns the encoder's token vectors into the vector a head reads. `mean` gives
every head the same average. `attention` gives each head its own learned weighting of
the tokens (one score per token, softmax over the text): a journey head can read the
words that name a stage while the emotion head reads others, instead of all heads
sharing one 384-number summary. Its scorers start at zero, i.e. at mean pooling.
"""

from __future__ import annotations

import torch
from torch import nn

from cxnlp.taxonomy import Head, Taxonomy

POOLINGS = ("mean", "attention")


def mean_pool(hidden: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
    mask = attention_mask.unsqueeze(-1).to(hidden.dtype)
    return (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)


class OrdinalHead(nn.Module):
    """Cumulative-logit head: returns the K-1 logits of P(y > k)."""

    def __init__(self, hidden: int, num_labels: int) -> None:
        super().__init__()
        self.score = nn.Linear(hidden, 1)
        # Cut-points are parameterised as a first value plus positive gaps so they stay ordered.
        self.first = nn.Parameter(torch.tensor(-1.0))
        self.log_gaps = nn.Parameter(torch.zeros(max(num_labels - 2, 0)))

    def cutpoints(self) -> torch.Tensor:
        gaps = torch.nn.functional.softplus(self.log_gaps) + 1e-3
        return torch.cat([self.first.view(1), self.first + torch.cumsum(gaps, 0)])

    def forward(self, pooled: torch.Tensor) -> torch.Tensor:
        return self.score(pooled) - self.cutpoints().unsqueeze(0)


def build_head(head: Head, hidden: int) -> nn.Module:
    if head.kind == "ordinal":
        return OrdinalHead(hidden, head.num_labels)
    return nn.Linear(hidden, head.num_labels)


def logits_width(head: Head) -> int:
    return head.num_labels - 1 if head.kind == "ordinal" else head.num_labels


class HeadStack(nn.Module):
    """All taxonomy heads over the encoder's token vectors. Saved as `heads.safetensors`."""

    def __init__(self, taxonomy: Taxonomy, hidden: int, dropout: float = 0.1, pooling: str = "mean") -> None:
        super().__init__()
        if pooling not in POOLINGS:
            raise ValueError(f"pooling must be one of {', '.join(POOLINGS)}, got {pooling!r}")
        self.taxonomy = taxonomy
        self.pooling = pooling
        self.dropout = nn.Dropout(dropout)
        self.heads = nn.ModuleDict({h.name: build_head(h, hidden) for h in taxonomy.heads})
        if pooling == "attention":
            self.scorers = nn.ModuleDict({h.name: nn.Linear(hidden, 1) for h in taxonomy.heads})
            for scorer in self.scorers.values():
                nn.init.zeros_(scorer.weight)
                nn.init.zeros_(scorer.bias)

    def forward(self, hidden: torch.Tensor, attention_mask: torch.Tensor) -> dict[str, torch.Tensor]:
        if self.pooling == "mean":
            pooled = self.dropout(mean_pool(hidden, attention_mask))
            return {name: head(pooled) for name, head in self.heads.items()}
        padding = (attention_mask == 0).unsqueeze(-1)
        out = {}
        for name, head in self.heads.items():
            weights = self.scorers[name](hidden).masked_fill(padding, torch.finfo(hidden.dtype).min).softmax(1)
            out[name] = head(self.dropout((weights * hidden).sum(1)))
        return out


class MultiHeadClassifier(nn.Module):
    """Encoder + `HeadStack` (pooling and heads)."""

    def __init__(self, encoder: nn.Module, taxonomy: Taxonomy, dropout: float = 0.1, pooling: str = "mean") -> None:
        super().__init__()
        self.encoder = encoder
        self.taxonomy = taxonomy
        self.heads = HeadStack(taxonomy, encoder.config.hidden_size, dropout, pooling)

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> dict[str, torch.Tensor]:
        hidden = self.encoder(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state
        return self.heads(hidden, attention_mask)
