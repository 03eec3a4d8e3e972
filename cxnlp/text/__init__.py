"""Text processing for Arabic and Persian feedback: normalisation and language detection."""

from cxnlp.text.detect import LanguageGuess, VarietyGuess, detect_language, detect_variety
from cxnlp.text.normalize import NORMALIZATION_FILE, Normalizer, NormalizerConfig, normalize

__all__ = [
    "NORMALIZATION_FILE",
    "LanguageGuess",
    "Normalizer",
    "NormalizerConfig",
    "VarietyGuess",
    "detect_language",
    "detect_variety",
    "normalize",
]
