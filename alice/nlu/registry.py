"""The intent registry: what the assistant understands, as data (YAML), never as code.

The default registry ships in the package (`intents.yaml`). Users add intents, or extend the
default ones with more examples, through their own YAML files in the same shape: a new id adds
an intent; an existing id gets the new examples appended and any other field given replaces
the default. No code change is needed.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any, Literal

import orjson
import yaml

__all__ = [
    "CACHE_CLASSES",
    "OUT_OF_SCOPE",
    "ROUTES",
    "Intent",
    "IntentRegistry",
    "RegistryError",
    "default_registry_text",
    "load_registry",
    "registry_from_examples",
]

ROUTES = ("tool", "micro", "planner", "deep")
CACHE_CLASSES = ("never", "short", "long")
OUT_OF_SCOPE = "none"

Route = Literal["tool", "micro", "planner", "deep"]
CacheClass = Literal["never", "short", "long"]


class RegistryError(ValueError):
    """A registry file is malformed; the message names the file and the intent."""


@dataclass(frozen=True, slots=True)
class Intent:
    id: str
    route: Route
    tool: str | None
    cache: CacheClass
    examples: Mapping[str, tuple[str, ...]]  # language code -> example utterances
    description: str = ""

    def all_examples(self) -> list[tuple[str, str]]:
        """(lang, text) pairs in a stable order."""
        return [(lang, text) for lang in sorted(self.examples) for text in self.examples[lang]]


@dataclass(frozen=True, slots=True)
class IntentRegistry:
    intents: Mapping[str, Intent]
    sources: tuple[str, ...] = field(default=())

    def __getitem__(self, intent_id: str) -> Intent:
        return self.intents[intent_id]

    def __contains__(self, intent_id: object) -> bool:
        return intent_id in self.intents

    def __iter__(self):
        return iter(self.intents.values())

    def __len__(self) -> int:
        return len(self.intents)

    @property
    def ids(self) -> list[str]:
        return list(self.intents)

    def fingerprint(self) -> str:
        """A hash of everything that changes the classifier: ids, routes and examples."""
        payload = [(i.id, i.route, i.tool, i.cache, i.all_examples()) for i in self.intents.values()]
        return hashlib.sha256(orjson.dumps(payload)).hexdigest()[:16]


def _check(cond: bool, where: str, msg: str) -> None:
    if not cond:
        raise RegistryError(f"{where}: {msg}")


def _parse_intent(raw: Any, where: str, base: Intent | None) -> Intent:
    _check(isinstance(raw, dict), where, "each intent must be a mapping")
    known = {"id", "route", "tool", "cache", "examples", "description"}
    unknown = set(raw) - known
    _check(not unknown, where, f"unknown field(s) {sorted(unknown)}; allowed: {sorted(known)}")
    iid = raw.get("id")
    _check(isinstance(iid, str) and bool(iid.strip()), where, "`id` must be a non-empty string")
    where = f"{where} ({iid})"
    route = raw.get("route", base.route if base else "micro")
    _check(route in ROUTES, where, f"route {route!r} must be one of {ROUTES}")
    cache = raw.get("cache", base.cache if base else "never")
    _check(cache in CACHE_CLASSES, where, f"cache {cache!r} must be one of {CACHE_CLASSES}")
    tool = raw["tool"] if "tool" in raw else (base.tool if base else None)
    _check(tool is None or isinstance(tool, str), where, "`tool` must be a tool name or null")
    examples: dict[str, list[str]] = {k: list(v) for k, v in (base.examples.items() if base else ())}
    new = raw.get("examples") or {}
    _check(isinstance(new, dict), where, "`examples` must map a language code to a list of texts")
    for lang, texts in new.items():
        _check(isinstance(texts, list), where, f"examples.{lang} must be a list")
        for t in texts:
            _check(isinstance(t, str) and bool(t.strip()), where, f"examples.{lang}: {t!r} is not a text")
        examples.setdefault(str(lang), []).extend(t.strip() for t in texts)
    _check(any(examples.values()), where, "an intent needs at least one example")
    return Intent(
        id=iid, route=route, tool=tool, cache=cache,
        examples={lang: tuple(dict.fromkeys(v)) for lang, v in examples.items()},
        description=str(raw.get("description", base.description if base else "")),
    )


def _read(source: Path | str) -> tuple[str, Any]:
    if isinstance(source, Path):
        return str(source), yaml.safe_load(source.read_text(encoding="utf-8"))
    return "<default intents.yaml>", yaml.safe_load(source)


def _merge(intents: dict[str, Intent], name: str, doc: Any) -> None:
    _check(isinstance(doc, dict) and isinstance(doc.get("intents"), list), name,
           "expected a mapping with an `intents:` list")
    for n, raw in enumerate(doc["intents"]):
        base = intents.get(raw.get("id")) if isinstance(raw, dict) else None
        intent = _parse_intent(raw, f"{name}: intents[{n}]", base)
        intents[intent.id] = intent


def default_registry_text() -> str:
    return resources.files("alice.nlu").joinpath("intents.yaml").read_text(encoding="utf-8")


def load_registry(extra: Iterable[Path | str] = (), *, include_default: bool = True) -> IntentRegistry:
    """The default registry plus each extra YAML file, in order (later files extend earlier ones)."""
    intents: dict[str, Intent] = {}
    sources: list[str] = []
    docs = ([_read(default_registry_text())] if include_default else []) + [_read(Path(p)) for p in extra]
    for name, doc in docs:
        _merge(intents, name, doc)
        sources.append(name)
    if not intents:
        raise RegistryError("the registry is empty")
    return IntentRegistry(intents=intents, sources=tuple(sources))


def registry_from_examples(rows: Iterable[tuple[str, str]], *, lang: str = "en") -> IntentRegistry:
    """A registry built from labelled (text, intent) rows, e.g. a few-shot training split."""
    grouped: dict[str, list[str]] = {}
    for text, intent in rows:
        grouped.setdefault(intent, []).append(text)
    intents = {
        iid: Intent(id=iid, route="micro", tool=None, cache="never", examples={lang: tuple(dict.fromkeys(texts))})
        for iid, texts in grouped.items()
    }
    return IntentRegistry(intents=intents, sources=("<examples>",))
