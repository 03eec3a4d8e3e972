"""The multi-head model, its losses, decoding and calibration, and the linear baseline."""

from cxnlp.modeling.decoding import decode, decode_all, expected_value, probabilities
from cxnlp.modeling.heads import HeadStack, MultiHeadClassifier, mean_pool
from cxnlp.modeling.losses import IGNORE, LossSettings, multitask_loss

__all__ = [
    "IGNORE",
    "HeadStack",
    "LossSettings",
    "MultiHeadClassifier",
    "decode",
    "decode_all",
    "expected_value",
    "mean_pool",
    "multitask_loss",
    "probabilities",
]
