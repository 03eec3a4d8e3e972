"""The label schema as data: loading, validating and saving taxonomy YAML files.

Model heads, losses, metrics, the API schema and reports are all derived from a
`Taxonomy`, so a user who brings their own YAML gets a working pipeline with no code
change. Validation errors name the YAML line and field, because the people editing
these files are not the people who wrote the code.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

KINDS = ("multilabel", "multiclass", "ordinal")
TAXONOMY_FILE = "taxonomy.yaml"
# Names appear in CSV cells ("a|b"), URLs and metric keys: no whitespace, "|", "," or ":".
_NAME_RE = re.compile(r"^[^\s|,:]+$")


class TaxonomyError(ValueError):
    """A taxonomy file is invalid; the message names the file, line and field."""


@dataclass(frozen=True)
class Label:
    """One label of a head."""

    name: str
    """Identifier used in data, predictions and the API (no whitespace, `|`, `,` or `:`)."""
    description: str = ""
    """What the label means, shown in reports and `GET /v1/labels`."""


@dataclass(frozen=True)
class Head:
    """One prediction head: a group of labels decoded together."""

    name: str
    """Identifier of the head (a key of a record's `labels`)."""
    kind: str
    """`multilabel` (any number of labels), `multiclass` (exactly one) or `ordinal`
    (exactly one from an ordered scale, low to high)."""
    labels: tuple[Label, ...]
    """The labels, in order (for ordinal heads: from lowest to highest)."""
    description: str = ""
    """What the head measures."""
    allow_empty: bool = True
    """Multilabel heads only: whether an empty label set is a valid annotation."""

    @property
    def label_names(self) -> list[str]:
        return [label.name for label in self.labels]

    @property
    def num_labels(self) -> int:
        return len(self.labels)

    @property
    def is_multilabel(self) -> bool:
        return self.kind == "multilabel"

    def index(self, label: str) -> int:
        try:
            return self.label_names.index(label)
        except ValueError:
            raise KeyError(f"unknown label {label!r} for head {self.name!r}; known: {self.label_names}") from None


@dataclass(frozen=True)
class Taxonomy:
    """A set of heads, loaded from YAML."""

    heads: tuple[Head, ...]
    """The heads, in file order."""
    name: str = "custom"
    """A short name for the taxonomy (recorded in model cards)."""
    version: str = "1"
    """The taxonomy's own version, so that models trained on different versions differ."""
    source: str | None = field(default=None, compare=False)
    """Where it was loaded from (for messages)."""

    def __post_init__(self) -> None:
        if not self.heads:
            raise TaxonomyError("a taxonomy needs at least one head")
        names = [h.name for h in self.heads]
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            raise TaxonomyError(f"duplicate head names: {dupes}")

    @property
    def head_names(self) -> list[str]:
        return [h.name for h in self.heads]

    def head(self, name: str) -> Head:
        for h in self.heads:
            if h.name == name:
                return h
        raise KeyError(f"unknown head {name!r}; heads of this taxonomy: {self.head_names}")

    def __contains__(self, name: object) -> bool:
        return any(h.name == name for h in self.heads)

    def to_dict(self) -> dict[str, Any]:
        heads = []
        for h in self.heads:
            d: dict[str, Any] = {"name": h.name, "kind": h.kind}
            if h.kind == "multilabel":
                d["allow_empty"] = h.allow_empty
            if h.description:
                d["description"] = h.description
            d["labels"] = [
                {"name": lab.name, "description": lab.description} if lab.description else {"name": lab.name}
                for lab in h.labels
            ]
            heads.append(d)
        return {"name": self.name, "version": self.version, "heads": heads}

    def save(self, path: str | Path) -> Path:
        path = Path(path)
        if path.is_dir():
            path = path / TAXONOMY_FILE
        path.write_text(
            yaml.safe_dump(self.to_dict(), allow_unicode=True, sort_keys=False, width=100), encoding="utf-8"
        )
        return path

    @classmethod
    def from_yaml(cls, path: str | Path) -> Taxonomy:
        path = Path(path)
        if path.is_dir():
            path = path / TAXONOMY_FILE
        if not path.exists():
            raise TaxonomyError(f"taxonomy file not found: {path}")
        return cls.from_yaml_string(path.read_text(encoding="utf-8"), source=str(path))

    @classmethod
    def from_yaml_string(cls, text: str, source: str = "<string>") -> Taxonomy:
        try:
            node = yaml.compose(text)
        except yaml.YAMLError as exc:
            raise TaxonomyError(f"{source}: not valid YAML: {exc}") from exc
        if node is None:
            raise TaxonomyError(f"{source}: the file is empty")
        return _build(node, source)

    @classmethod
    def from_dict(cls, data: dict[str, Any], source: str = "<dict>") -> Taxonomy:
        return cls.from_yaml_string(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), source)

    @classmethod
    def default(cls) -> Taxonomy:
        """The default CX taxonomy (`data/taxonomy.yaml`, or `$CXNLP_DATA/taxonomy.yaml`)."""
        return cls.from_yaml(default_data_dir() / TAXONOMY_FILE)


def default_data_dir() -> Path:
    """Where the shipped corpus and default taxonomy live: `$CXNLP_DATA` if set, else the
    repository's `data/` folder."""
    env = os.environ.get("CXNLP_DATA")
    if env:
        return Path(env)
    return Path(__file__).resolve().parent.parent / "data"


# -- YAML → Taxonomy with line numbers -------------------------------------------------


def _where(source: str, node: yaml.Node, path: str) -> str:
    return f"{source} line {node.start_mark.line + 1}, {path}"


def _scalar(node: yaml.Node, source: str, path: str, *, required_type: type = str) -> Any:
    if not isinstance(node, yaml.ScalarNode):
        raise TaxonomyError(f"{_where(source, node, path)}: expected a {required_type.__name__}")
    value = yaml.safe_load(yaml.serialize(node))
    if required_type is str:
        if value is None:
            raise TaxonomyError(f"{_where(source, node, path)}: must not be empty")
        return str(value)
    if not isinstance(value, required_type):
        raise TaxonomyError(f"{_where(source, node, path)}: expected {required_type.__name__}, got {value!r}")
    return value


def _mapping(node: yaml.Node, source: str, path: str) -> dict[str, yaml.Node]:
    if not isinstance(node, yaml.MappingNode):
        raise TaxonomyError(f"{_where(source, node, path)}: expected a mapping (key: value)")
    out: dict[str, yaml.Node] = {}
    for k, v in node.value:
        key = _scalar(k, source, path)
        if key in out:
            raise TaxonomyError(f"{_where(source, k, path)}: duplicate key {key!r}")
        out[key] = v
    return out


def _name(node: yaml.Node, source: str, path: str) -> str:
    name = _scalar(node, source, path)
    if not _NAME_RE.match(name):
        raise TaxonomyError(
            f"{_where(source, node, path)}: invalid name {name!r} (no spaces, '|', ',' or ':')"
        )
    return name


def _build(root: yaml.Node, source: str) -> Taxonomy:
    top = _mapping(root, source, "<top>")
    unknown = set(top) - {"name", "version", "heads", "description"}
    if unknown:
        raise TaxonomyError(f"{_where(source, root, '<top>')}: unknown keys {sorted(unknown)}")
    if "heads" not in top:
        raise TaxonomyError(f"{_where(source, root, '<top>')}: missing 'heads'")
    heads_node = top["heads"]
    if not isinstance(heads_node, yaml.SequenceNode) or not heads_node.value:
        raise TaxonomyError(f"{_where(source, heads_node, 'heads')}: 'heads' must be a non-empty list")
    heads: list[Head] = []
    seen_heads: dict[str, int] = {}
    for i, hnode in enumerate(heads_node.value):
        hpath = f"heads[{i}]"
        h = _mapping(hnode, source, hpath)
        unknown = set(h) - {"name", "kind", "labels", "description", "allow_empty"}
        if unknown:
            raise TaxonomyError(f"{_where(source, hnode, hpath)}: unknown keys {sorted(unknown)}")
        for key in ("name", "kind", "labels"):
            if key not in h:
                raise TaxonomyError(f"{_where(source, hnode, hpath)}: missing '{key}'")
        name = _name(h["name"], source, f"{hpath}.name")
        if name in seen_heads:
            raise TaxonomyError(
                f"{_where(source, h['name'], hpath + '.name')}: duplicate head {name!r} "
                f"(first defined at heads[{seen_heads[name]}])"
            )
        seen_heads[name] = i
        kind = _scalar(h["kind"], source, f"{hpath}.kind")
        if kind not in KINDS:
            raise TaxonomyError(
                f"{_where(source, h['kind'], hpath + '.kind')}: unknown kind {kind!r}; expected one of {', '.join(KINDS)}"
            )
        lnode = h["labels"]
        if not isinstance(lnode, yaml.SequenceNode) or not lnode.value:
            raise TaxonomyError(f"{_where(source, lnode, hpath + '.labels')}: head {name!r} has no labels")
        labels: list[Label] = []
        seen: dict[str, int] = {}
        for j, item in enumerate(lnode.value):
            lpath = f"{hpath}.labels[{j}]"
            if isinstance(item, yaml.ScalarNode):
                lname, desc = _name(item, source, lpath), ""
            else:
                lm = _mapping(item, source, lpath)
                if "name" not in lm:
                    raise TaxonomyError(f"{_where(source, item, lpath)}: missing 'name'")
                extra = set(lm) - {"name", "description"}
                if extra:
                    raise TaxonomyError(f"{_where(source, item, lpath)}: unknown keys {sorted(extra)}")
                lname = _name(lm["name"], source, lpath + ".name")
                desc = _scalar(lm["description"], source, lpath + ".description") if "description" in lm else ""
            if lname in seen:
                raise TaxonomyError(
                    f"{_where(source, item, lpath)}: duplicate label {lname!r} in head {name!r} "
                    f"(also labels[{seen[lname]}])"
                )
            seen[lname] = j
            labels.append(Label(lname, desc))
        if kind != "multilabel" and len(labels) < 2:
            raise TaxonomyError(f"{_where(source, lnode, hpath + '.labels')}: a {kind} head needs at least 2 labels")
        allow_empty = True
        if "allow_empty" in h:
            if kind != "multilabel":
                raise TaxonomyError(f"{_where(source, h['allow_empty'], hpath)}: allow_empty applies to multilabel heads only")
            allow_empty = _scalar(h["allow_empty"], source, hpath + ".allow_empty", required_type=bool)
        desc = _scalar(h["description"], source, hpath + ".description") if "description" in h else ""
        heads.append(Head(name=name, kind=kind, labels=tuple(labels), description=desc, allow_empty=allow_empty))
    tname = _scalar(top["name"], source, "name") if "name" in top else "custom"
    version = _scalar(top["version"], source, "version") if "version" in top else "1"
    return Taxonomy(heads=tuple(heads), name=tname, version=version, source=source)
