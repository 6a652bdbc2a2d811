"""Reading the reviewable YAML files (redaction rules, the safeguarding lexicon) strictly.

PyYAML keeps the last of two equal keys in a mapping without a word, so a reviewer's edit that
repeats a key would silently drop the first value. ``load_unique_yaml`` refuses it instead.

A low-level module: it imports nothing from the rest of the package, so any stage may use it.
"""

from __future__ import annotations

from typing import IO, Any

import yaml

__all__ = ["UniqueKeyLoader", "load_unique_yaml"]


class UniqueKeyLoader(yaml.SafeLoader):
    """SafeLoader that refuses a mapping with the same key twice (PyYAML keeps the last one)."""


def _construct_unique_mapping(
    loader: UniqueKeyLoader, node: yaml.MappingNode, deep: bool = False
) -> dict[Any, Any]:
    seen: set[Any] = set()
    for key_node, _ in node.value:
        key = loader.construct_object(key_node, deep=deep)
        if key in seen:
            raise yaml.constructor.ConstructorError(
                None, None, f"duplicate key {key!r}", key_node.start_mark
            )
        seen.add(key)
    return loader.construct_mapping(node, deep=deep)


UniqueKeyLoader.add_constructor(
    yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_unique_mapping
)


def load_unique_yaml(stream: str | bytes | IO[str] | IO[bytes]) -> Any:
    """``yaml.safe_load``, except that a mapping repeating a key raises
    ``yaml.constructor.ConstructorError`` ("duplicate key 'x'", with the line), a ``YAMLError``."""
    return yaml.load(stream, Loader=UniqueKeyLoader)  # noqa: S506 - a SafeLoader
