"""The `cache:` section of the config, validated here (the gateway keeps it as a plain dict).

Defaults (all overridable):

    enabled: true
    store: sqlite            # memory | sqlite | redis; sqlite file: <state.dir>/cache.sqlite3
    redis_url: null          # default: state.redis_url
    memory_bytes: 64 MiB     # in-process hot tier (answers + negatives), LRU by bytes
    index_bytes: 32 MiB      # in-process vector index, LRU by bytes
    max_entries: 200000      # durable store bound (oldest expiry pruned first)
    normalize: {assistant: full, openai: none}
    semantic:
      assistant: true        # the assistant surface uses the semantic tier
      openai: false          # /v1/chat/completions: off unless enabled per public model
      models: {}             # e.g. {chat: true}: per public model on the OpenAI surface
      multi_turn: true       # multi-turn requests too (the earlier context is in the partition)
      with_tools: false      # requests offering tools / carrying tool results: exact tier only
      embedder: static       # first stage (64-d, sub-millisecond)
      verifier: e5           # second stage for the verify bands; null: verify bands miss
      verifier_min: 0.95
      lexical_min: 0.7       # a verify-band candidate ≥ lexical_floor sharing ≥ 70 % of its
      lexical_floor: 0.8     #   content words is served without the verifier
      base_distance: null    # band geometry (see bands.py); or `bands: {golden_close: 0.93, …}`
      actions: {}            # band → serve | verify | miss
    negative_ttl_s: {context_length: 60, content_filter: 60, invalid_request: 30}
    intent_ttl_s: {...}      # merged over DEFAULT_INTENT_TTL_S (0 = never cache)
    cache_tool_calls: false  # answers that call tools are not cached (agent turns are not replayed)
    namespaces: {}           # tenant → shared namespace, only when sharing is wanted explicitly
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from alice.cache.bands import ACTIONS, BAND_NAMES
from alice.cache.text import Policy

__all__ = ["DEFAULT_INTENT_TTL_S", "CacheSettings", "SemanticSettings", "load_settings"]

# Intent (prefix) → the longest an answer may live, in seconds; 0 = never cached.
DEFAULT_INTENT_TTL_S: dict[str, float] = {
    "time": 0, "clock": 0, "date": 0, "timer": 0, "alarm": 0, "reminder": 0, "calendar": 0,
    "weather": 600, "home": 0, "light": 0, "device": 0, "email": 0, "memory": 0, "news": 3600,
}


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class SemanticSettings(_Strict):
    assistant: bool = True
    openai: bool = False
    models: dict[str, bool] = {}
    multi_turn: bool = True
    with_tools: bool = False
    embedder: str = "static"
    # Second-stage check for candidates in a "verify" band; null: verify bands are misses.
    verifier: str | None = "e5"
    verifier_min: float = Field(0.95, ge=0, le=1)
    # A verify-band candidate down to `lexical_floor` that shares this share of its content words
    # is served without the verifier (cheap; calibrated like the bands).
    lexical_min: float = Field(0.7, ge=0, le=1.01)
    lexical_floor: float = Field(0.8, ge=-1, le=1)
    # Band floors: either from the profile's ratio and this base distance, or given explicitly.
    base_distance: float | None = Field(None, gt=0, lt=1)
    bands: dict[str, float] = {}
    actions: dict[str, str] = {}
    top_k: int = Field(4, ge=1, le=64)

    @field_validator("bands")
    @classmethod
    def _known_bands(cls, v: dict[str, float]) -> dict[str, float]:
        for name, floor in v.items():
            if name not in BAND_NAMES[:-1]:
                raise ValueError(f"unknown band {name!r}; bands with a floor: {list(BAND_NAMES[:-1])}")
            if not -1 <= floor <= 1:
                raise ValueError(f"band {name!r}: floor {floor} is not a cosine similarity in [-1, 1]")
        return v

    @field_validator("actions")
    @classmethod
    def _known_actions(cls, v: dict[str, str]) -> dict[str, str]:
        for name, action in v.items():
            if name not in BAND_NAMES:
                raise ValueError(f"unknown band {name!r}; choose from {list(BAND_NAMES)}")
            if action not in ACTIONS:
                raise ValueError(f"band {name!r}: unknown action {action!r}; choose from {list(ACTIONS)}")
        return v

    def enabled_for(self, surface: str, model: str) -> bool:
        if surface == "assistant":
            return self.assistant
        return self.models.get(model, self.openai)


class CacheSettings(_Strict):
    enabled: bool = True
    store: Literal["memory", "sqlite", "redis"] = "sqlite"
    sqlite_path: str | None = None
    redis_url: str | None = None
    redis_prefix: str = "alice:cache"
    memory_bytes: int = Field(64 * 1024 * 1024, gt=0)
    index_bytes: int = Field(32 * 1024 * 1024, gt=0)
    max_entries: int = Field(200_000, gt=0)
    normalize: dict[str, Policy] = {"assistant": "full", "openai": "none"}
    semantic: SemanticSettings = SemanticSettings()
    negative_ttl_s: dict[str, float] = {"context_length": 60, "content_filter": 60, "invalid_request": 30}
    intent_ttl_s: dict[str, float] = {}
    volatile_text: bool = True
    cache_tool_calls: bool = False
    namespaces: dict[str, str] = {}

    @field_validator("negative_ttl_s")
    @classmethod
    def _known_kinds(cls, v: dict[str, float]) -> dict[str, float]:
        kinds = {"context_length", "content_filter", "invalid_request"}
        for k in v:
            if k not in kinds:
                raise ValueError(f"unknown failure kind {k!r}; choose from {sorted(kinds)}")
        return v

    def policy(self, surface: str) -> Policy:
        return self.normalize.get(surface, "full" if surface == "assistant" else "none")

    def intent_ttls(self) -> dict[str, float]:
        return {**DEFAULT_INTENT_TTL_S, **self.intent_ttl_s}

    def sqlite_file(self, state_dir: Path) -> Path:
        return Path(self.sqlite_path) if self.sqlite_path else state_dir / "cache.sqlite3"


def load_settings(section: dict[str, Any] | None) -> CacheSettings:
    """Validate `config.cache`; a problem raises ValueError naming the key (cache.…)."""
    try:
        return CacheSettings.model_validate(section or {})
    except ValidationError as exc:
        problems = "\n".join(f"  cache.{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors())
        raise ValueError("invalid cache configuration:\n" + problems) from None
