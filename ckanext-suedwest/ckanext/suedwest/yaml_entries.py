"""Reading a reviewed YAML file that lists entries (the tenants file, the harvest-source catalogue) so that
every mistake is reported with its line, before anything is written; and the report of synchronising it."""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator

import yaml


class EntriesFileError(Exception):
    """A problem in the file, with the line it is on."""


@dataclass
class SyncReport:
    """What synchronising the entries into CKAN did, by entry name."""
    created: list = field(default_factory=list)
    updated: list = field(default_factory=list)
    unchanged: list = field(default_factory=list)
    not_in_file: list = field(default_factory=list)  # in CKAN, no longer in the file: reported, kept

    def summary(self) -> list[str]:
        """One line per non-empty group, such as "created: a, b"."""
        groups = (("created", self.created), ("updated", self.updated), ("unchanged", self.unchanged))
        return [f"{label}: {', '.join(names)}" for label, names in groups if names]


def line(node) -> int:
    return node.start_mark.line + 1 if node is not None else 1


def load_list(path: Path, key: str, setting: str, what: str) -> list[yaml.Node]:
    """The nodes of the list under ``key`` at the top of the file (``what`` names its entries in messages).

    Raises ``EntriesFileError`` naming the file, the line and ``setting`` (the option that names the file)."""
    try:
        root = yaml.compose(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise EntriesFileError(f"{path}: file not found ({setting})")
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f"line {mark.line + 1}" if mark else "unknown line"
        raise EntriesFileError(f"{path}, {where}: not valid YAML: {getattr(error, 'problem', error)}")
    if not isinstance(root, yaml.MappingNode):
        raise EntriesFileError(f"{path}, line {line(root)}: expected '{key}:' with a list of {what}")
    for key_node, value_node in root.value:
        if key_node.value == key:
            if not isinstance(value_node, yaml.SequenceNode):
                raise EntriesFileError(f"{path}, line {line(value_node)}: '{key}' must be a list")
            return value_node.value
    raise EntriesFileError(f"{path}, line {line(root)}: no '{key}' list")


def load_named_entries(path: Path, key: str, setting: str, what: str, one: str, parse) -> list[dict]:
    """Every entry of the list under ``key``, as ``parse(node, path)`` makes it (a dict with a ``name``);
    ``one`` names a single entry in messages. A name listed twice is an error."""
    parsed, names = [], set()
    for node in load_list(path, key, setting, what):
        entry = parse(node, path)
        if entry["name"] in names:
            raise EntriesFileError(f"{path}, line {line(node)}: {one} '{entry['name']}' is listed twice")
        names.add(entry["name"])
        parsed.append(entry)
    return parsed


def entry_items(node, path: Path, known, what: str) -> Iterator[tuple[str, Any, int]]:
    """(key, value, line of the value) of one entry, refusing keys that are not in ``known``."""
    if not isinstance(node, yaml.MappingNode):
        raise EntriesFileError(f"{path}, line {line(node)}: each {what} is a mapping of keys and values")
    for key_node, value_node in node.value:
        if key_node.value not in known:
            raise EntriesFileError(f"{path}, line {line(key_node)}: unknown key '{key_node.value}' "
                                   f"(known: {', '.join(known)})")
        yield key_node.value, yaml.safe_load(yaml.serialize(value_node)), line(value_node)
