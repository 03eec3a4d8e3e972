from __future__ import annotations

import pytest

from cxnlp.taxonomy import Taxonomy, TaxonomyError


def test_default_taxonomy_matches_spec(taxonomy):
    assert taxonomy.head_names == ["emotion", "sentiment", "effort", "expectation", "execution", "complaint",
                                   "journey", "signal"]
    assert taxonomy.head("effort").kind == "ordinal"
    assert taxonomy.head("effort").label_names == ["low", "medium", "high"]
    assert taxonomy.head("complaint").allow_empty is True
    assert taxonomy.head("emotion").allow_empty is False
    assert len(taxonomy.head("complaint").labels) == 11


def test_roundtrip(tmp_path, taxonomy):
    taxonomy.save(tmp_path)
    again = Taxonomy.from_yaml(tmp_path)
    assert again == taxonomy


@pytest.mark.parametrize(
    ("yaml_text", "expected"),
    [
        ("heads:\n  - name: a\n    kind: multi\n    labels: [x, y]\n", r"line 3, heads\[0\]\.kind: unknown kind 'multi'"),
        ("heads:\n  - name: a\n    kind: multiclass\n    labels: [x, y, x]\n", r"line 4, heads\[0\]\.labels\[2\]: duplicate label 'x'"),
        ("heads:\n  - name: a\n    kind: multiclass\n    labels: []\n", r"line 4, heads\[0\]\.labels: head 'a' has no labels"),
        ("heads: []\n", r"line 1, heads: 'heads' must be a non-empty list"),
        ("name: x\n", r"missing 'heads'"),
        ("heads:\n  - name: a\n    labels: [x, y]\n", r"missing 'kind'"),
        ("heads:\n  - name: a\n    kind: multiclass\n    labels: [x]\n", r"needs at least 2 labels"),
        ("heads:\n  - name: a\n    kind: multiclass\n    labels: [x, y]\n  - name: a\n    kind: ordinal\n    labels: [x, y]\n",
         r"line 5, heads\[1\]\.name: duplicate head 'a'"),
        ("heads:\n  - name: a\n    kind: multiclass\n    labels: [x, 'y|z']\n", r"invalid name 'y\|z'"),
        ("heads:\n  - name: a\n    kind: multiclass\n    colour: red\n    labels: [x, y]\n", r"unknown keys \['colour'\]"),
        ("heads:\n  - name: a\n    kind: multiclass\n    allow_empty: true\n    labels: [x, y]\n", "multilabel heads only"),
        ("heads: [\n", "not valid YAML"),
    ],
)
def test_errors_name_line_and_field(yaml_text, expected):
    with pytest.raises(TaxonomyError, match=expected):
        Taxonomy.from_yaml_string(yaml_text, "mine.yaml")


def test_custom_taxonomy_with_plain_labels():
    t = Taxonomy.from_yaml_string(
        "name: emo5\nheads:\n  - name: label\n    kind: multiclass\n    labels: [HAPPY, SAD, ANGRY, FEAR, OTHER]\n"
    )
    assert t.head("label").index("SAD") == 1
    with pytest.raises(KeyError, match="unknown label"):
        t.head("label").index("JOY")


def test_missing_file(tmp_path):
    with pytest.raises(TaxonomyError, match="not found"):
        Taxonomy.from_yaml(tmp_path / "nope.yaml")
