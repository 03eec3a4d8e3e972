"""The multi-head classifier: one shared encoder, mean pooling, one head per taxonomy head.

Heads are built from the taxonomy, so a user's own YAML gives a model with matching
heads and no code change. Each head produces raw scores ("logits") of a kind-specific
shape; `cxnlp.modeling.decoding` turns them into probabilities and labels, and
`cxnlp.modeling.losses` into a training loss.

Ordinal heads use cumulative logits (one score s and K-1 ordered cut-points θ):
P(y > k) = σ(s − θ_k). This keeps "low < medium < high" ordered, which a plain softmax
does not, and yields an expected value on the 0…K-1 scale.
"""

from __future__ import annotations

import torch
from torch import nn

from cxnlp.taxonomy import Head, Taxonomy


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
    """All taxonomy heads over a pooled sentence vector. Saved as `heads.safetensors`."""

    def __init__(self, taxonomy: Taxonomy, hidden: int, dropout: float = 0.1) -> None:
        super().__init__()
        self.taxonomy = taxonomy
        self.dropout = nn.Dropout(dropout)
        self.heads = nn.ModuleDict({h.name: build_head(h, hidden) for h in taxonomy.heads})

    def forward(self, pooled: torch.Tensor) -> dict[str, torch.Tensor]:
        pooled = self.dropout(pooled)
        return {name: head(pooled) for name, head in self.heads.items()}


class MultiHeadClassifier(nn.Module):
    """Encoder + mean pooling + `HeadStack`."""

    def __init__(self, encoder: nn.Module, taxonomy: Taxonomy, dropout: float = 0.1) -> None:
        super().__init__()
        self.encoder = encoder
        self.taxonomy = taxonomy
        self.heads = HeadStack(taxonomy, encoder.config.hidden_size, dropout)

    def encode(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        out = self.encoder(input_ids=input_ids, attention_mask=attention_mask)
        return mean_pool(out.last_hidden_state, attention_mask)

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> dict[str, torch.Tensor]:
        return self.heads(self.encode(input_ids, attention_mask))
