"""The `nlu:` config section.

    nlu:
      enabled: true                # false: no /api/chat and no intent-model warm-up (model: auto still routes)
      embedder: e5                 # e5 | static (see alice.nlu.embed)
      fast_embedder: static        # cascade: this cheaper model answers first when it is confident; null: off
      embedding_cache: 1024        # embeddings of this many recent distinct texts are reused; 0: off
      registry_files: [my-intents.yaml]
      oos_threshold: 0.35          # below this confidence a turn is out of scope
      tie_break: false             # ask the micro tier to choose when confidence < tie_break_below
      tie_break_below: 0.5
      timezone: Europe/Stockholm
      session_ttl_s: 1800          # how long a conversation's state is kept
      history_turns: 6             # user+assistant pairs sent to the LLM as context
"""

from __future__ import annotations

from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from alice.nlu.embed import available_embedders

__all__ = ["NluSettings", "NluSettingsError"]


class NluSettingsError(ValueError):
    """The `nlu:` config section is invalid."""


class NluSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    enabled: bool = True
    embedder: str = "e5"
    fast_embedder: str | None = "static"
    embedding_cache: int = Field(1024, ge=0)
    registry_files: list[str] = []
    oos_threshold: float = Field(0.35, ge=0.0, le=1.0)
    tie_break: bool = False
    tie_break_below: float = Field(0.5, ge=0.0, le=1.0)
    timezone: str = "Europe/Stockholm"
    session_ttl_s: float = Field(1800.0, gt=0)
    history_turns: int = Field(6, ge=0, le=50)

    @field_validator("embedder", "fast_embedder")
    @classmethod
    def _known_embedder(cls, v: str | None) -> str | None:
        if v is not None and v not in available_embedders():
            raise ValueError(f"unknown embedder {v!r}; choose one of {available_embedders()}")
        return v

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, v: str) -> str:
        try:
            ZoneInfo(v)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {v!r} (use an IANA name such as Europe/Stockholm)") from None
        return v

    @classmethod
    def from_config(cls, section: dict[str, Any] | None) -> NluSettings:
        try:
            return cls.model_validate(section or {})
        except ValidationError as exc:
            problems = "; ".join(f"nlu.{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
            raise NluSettingsError(problems) from None
