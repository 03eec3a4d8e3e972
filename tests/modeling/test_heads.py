from __future__ import annotations

import pytest
import torch

from cxnlp.modeling.heads import HeadStack, mean_pool


def _pair(taxonomy, hidden: int = 8) -> tuple[HeadStack, HeadStack]:
    torch.manual_seed(0)
    mean = HeadStack(taxonomy, hidden, dropout=0.0, pooling="mean")
    attention = HeadStack(taxonomy, hidden, dropout=0.0, pooling="attention")
    attention.heads.load_state_dict(mean.heads.state_dict())
    return mean.eval(), attention.eval()


def _batch(hidden: int = 8) -> tuple[torch.Tensor, torch.Tensor]:
    torch.manual_seed(1)
    states = torch.randn(3, 6, hidden)
    mask = torch.tensor([[1, 1, 1, 1, 1, 1], [1, 1, 1, 0, 0, 0], [1, 1, 0, 0, 0, 0]])
    return states, mask


def test_attention_pooling_starts_as_mean_pooling(taxonomy):
    mean, attention = _pair(taxonomy)
    states, mask = _batch()
    a, b = mean(states, mask), attention(states, mask)
    assert set(a) == set(b) == set(taxonomy.head_names)
    for head in a:
        assert torch.allclose(a[head], b[head], atol=1e-6), head


def test_attention_pooling_ignores_padding(taxonomy):
    _, attention = _pair(taxonomy)
    for scorer in attention.scorers.values():
        torch.nn.init.normal_(scorer.weight, std=2.0)
    states, mask = _batch()
    short = attention(states[1:2, :3], mask[1:2, :3])
    garbage = states[1:2].clone()
    garbage[:, 3:] = 1e3
    padded = attention(garbage, mask[1:2])
    for head in short:
        assert torch.allclose(short[head], padded[head], atol=1e-5), head


def test_each_head_reads_its_own_tokens(taxonomy):
    """A head whose scorer favours one token reads that token's vector, whatever the others read."""
    mean, attention = _pair(taxonomy)
    states, mask = _batch()
    first, second = taxonomy.head_names[:2]
    # Token vectors differ in the last coordinate only by position: scorer weights on that
    # coordinate pick the first (negative weight) or the last unpadded token (positive weight).
    states[..., -1] = torch.arange(6, dtype=torch.float32) * 10
    for name, sign in ((first, -1.0), (second, 1.0)):
        attention.scorers[name].weight.data.zero_()
        attention.scorers[name].weight.data[0, -1] = sign * 10
    out = attention(states[:1], mask[:1])
    assert torch.allclose(out[first], attention.heads[first](states[:1, 0]), atol=1e-5)
    assert torch.allclose(out[second], attention.heads[second](states[:1, 5]), atol=1e-5)
    # Heads left at their initial scorers still read the mean.
    third = taxonomy.head_names[2]
    assert torch.allclose(out[third], mean.heads[third](mean_pool(states[:1], mask[:1])), atol=1e-5)


def test_unknown_pooling_is_refused(taxonomy):
    from cxnlp.training_args import TrainConfig

    with pytest.raises(ValueError, match="pooling"):
        HeadStack(taxonomy, 8, pooling="max")
    with pytest.raises(ValueError, match="pooling"):
        TrainConfig(pooling="cls")
