"""Labelled data: reading files and datasets, validating them against a taxonomy, splitting."""

from cxnlp.data.loading import LoadResult, fingerprint_records, label_features, load_labelled
from cxnlp.data.readers import RawRow, detect_format, expand_inputs, read_rows
from cxnlp.data.splits import SPLITS, assign_splits, split_dataset
from cxnlp.data.validation import DataValidationError, Problem, ValidationReport

__all__ = [
    "SPLITS",
    "DataValidationError",
    "LoadResult",
    "Problem",
    "RawRow",
    "ValidationReport",
    "assign_splits",
    "detect_format",
    "expand_inputs",
    "fingerprint_records",
    "label_features",
    "load_labelled",
    "read_rows",
    "split_dataset",
]
