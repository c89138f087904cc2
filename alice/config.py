"""Typed settings: one YAML file, every key overridable by an `ALICE_…` environment variable.

Env overrides use `__` to descend: `ALICE_SERVER__PORT=9000`, `ALICE_PROFILE=standard`,
`ALICE_DEPLOYMENTS__0__BASE_URL=…`. Values are parsed as YAML scalars, so numbers and
booleans keep their types. Unknown `ALICE_*` variables that match no key are ignored.
"""

from __future__ import annotations

import ipaddress
import os
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from alice.profiles import PROFILES

ENV_PREFIX = "ALICE_"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ServerConfig(_Strict):
    host: str = "127.0.0.1"
    port: int = Field(8000, ge=0, le=65535)
    workers: int = Field(1, ge=1)
    max_body_bytes: int = Field(4 * 1024 * 1024, gt=0)


def _private_url(url: str | None) -> bool:
    host = urlsplit(url or "").hostname or ""
    if host == "localhost":
        return True
    try:
        addr = ipaddress.ip_address(host)
    except ValueError:
        return False
    return addr.is_loopback or addr.is_private or addr.is_link_local


class Deployment(_Strict):
    name: str
    provider: Literal["openai", "ollama", "managed"]
    model: str
    base_url: str | None = None
    api_key_env: str | None = None
    weight: float = Field(1.0, gt=0)
    context_window: int = Field(4096, gt=0)
    # Where the prompt goes: local deployments may see raw text, cloud ones get PII-redacted text
    # (guard.pii). Unset: inferred from the address, see `_infer_locality`.
    locality: Literal["local", "cloud"] | None = None
    rpm: int | None = Field(None, gt=0)
    price_in_per_1k: float = 0.0
    price_out_per_1k: float = 0.0
    # managed only: extra llama.cpp server arguments
    n_ctx: int = Field(2048, gt=0)
    port: int | None = None

    @model_validator(mode="after")
    def _needs_url(self) -> Deployment:
        if self.provider in ("openai", "ollama") and not self.base_url:
            raise ValueError(f"provider {self.provider!r} needs base_url")
        return self

    @model_validator(mode="after")
    def _infer_locality(self) -> Deployment:
        # Wrong in the safe direction: only a server on this machine or a private network address
        # counts as local; any other host name (a cloud API, a DNS name) is treated as cloud.
        if self.locality is None:
            self.locality = "local" if self.provider == "managed" or _private_url(self.base_url) else "cloud"
        return self

    @property
    def api_key(self) -> str | None:
        return os.environ.get(self.api_key_env) if self.api_key_env else None


class TimeoutConfig(_Strict):
    """Per-phase deadlines in seconds; None means: take the profile's value."""

    connect: float | None = None
    headers: float | None = None
    first_token: float | None = None
    gap: float | None = None
    total: float | None = None


class ResilienceConfig(_Strict):
    max_attempts_per_deployment: int = Field(3, ge=1)
    retry_unit_s: float | None = Field(None, gt=0)
    retry_after_max_s: float = Field(5.0, ge=0)
    retry_budget_ratio: float = Field(0.2, ge=0)
    retry_budget_min_per_s: float = Field(5.0, ge=0)
    breaker_failure_threshold: int | None = Field(None, ge=1)
    breaker_backoff_scale: float = Field(1.0, gt=0)
    timeouts: TimeoutConfig = TimeoutConfig()
    single_flight: bool = True


class StateConfig(_Strict):
    dir: str = ".alice"
    redis_url: str | None = None
    postgres_dsn: str | None = None


class Config(_Strict):
    profile: str = "fibonacci"
    server: ServerConfig = ServerConfig()
    deployments: list[Deployment] = []
    models: dict[str, list[str]] = {}
    resilience: ResilienceConfig = ResilienceConfig()
    state: StateConfig = StateConfig()
    # Sections owned by other packages (cache, guard, nlu, telemetry) are validated there.
    cache: dict[str, Any] = {}
    guard: dict[str, Any] = {}
    nlu: dict[str, Any] = {}
    telemetry: dict[str, Any] = {}
    tools: dict[str, Any] = {}
    routing: dict[str, Any] = {}

    @field_validator("profile")
    @classmethod
    def _known_profile(cls, v: str) -> str:
        if v not in PROFILES:
            raise ValueError(f"unknown profile {v!r}; choose one of {sorted(PROFILES)}")
        return v

    @model_validator(mode="after")
    def _chains_reference_deployments(self) -> Config:
        names = [d.name for d in self.deployments]
        dupes = {n for n in names if names.count(n) > 1}
        if dupes:
            raise ValueError(f"deployment names must be unique: {sorted(dupes)}")
        for public, chain in self.models.items():
            if not chain:
                raise ValueError(f"models.{public}: the fallback chain is empty")
            for name in chain:
                if name not in names:
                    raise ValueError(f"models.{public}: unknown deployment {name!r} (known: {names})")
        return self

    @model_validator(mode="after")
    def _workers_share_state(self) -> Config:
        if self.server.workers > 1 and not self.state.redis_url:
            # In-process limit windows and idempotency records would be per worker: N workers would
            # allow N times every limit and replay an Idempotency-Key only on the worker that saw it.
            raise ValueError("server.workers > 1 needs state.redis_url: rate limits, per-deployment budgets "
                             "and Idempotency-Key replay must be shared by the workers (any Redis, e.g. a "
                             "redis-server on loopback)")
        return self

    def deployment(self, name: str) -> Deployment:
        return next(d for d in self.deployments if d.name == name)


DEFAULT_CONFIG: dict[str, Any] = {
    "profile": "fibonacci",
    "server": {"host": "127.0.0.1", "port": 8000},
    "deployments": [
        {"name": "local-smollm2", "provider": "managed", "model": "bundled:smollm2-135m", "n_ctx": 2048}
    ],
    "models": {"chat": ["local-smollm2"], "smollm2-135m": ["local-smollm2"]},
}


class ConfigError(Exception):
    """The configuration is invalid; the message lists every problem with its path."""


def _set_path(data: dict[str, Any], path: list[str], value: Any) -> bool:
    node: Any = data
    for i, key in enumerate(path):
        last = i == len(path) - 1
        if isinstance(node, list):
            if not key.isdigit() or int(key) >= len(node):
                return False
            if last:
                node[int(key)] = value
                return True
            node = node[int(key)]
            continue
        if not isinstance(node, dict):
            return False
        if key not in node:
            # Only top-level keys known to the schema (or free-form sections) may be created.
            if i == 0 and key not in Config.model_fields:
                return False
            if last:
                node[key] = value
                return True
            node[key] = {}
        if last:
            node[key] = value
            return True
        node = node[key]
    return False


def apply_env(data: dict[str, Any], environ: dict[str, str] | None = None) -> dict[str, Any]:
    environ = dict(os.environ) if environ is None else environ
    for name, raw in sorted(environ.items()):
        if not name.startswith(ENV_PREFIX):
            continue
        path = name[len(ENV_PREFIX) :].lower().split("__")
        _set_path(data, path, yaml.safe_load(raw) if raw else raw)
    return data


def _explain(err: ValidationError) -> str:
    lines = []
    for e in err.errors():
        where = ".".join(str(p) for p in e["loc"]) or "(top level)"
        lines.append(f"  {where}: {e['msg']}")
    return "invalid configuration:\n" + "\n".join(lines)


def load_config(path: str | Path | None = None, environ: dict[str, str] | None = None) -> Config:
    if path is None:
        import copy

        data = copy.deepcopy(DEFAULT_CONFIG)
    else:
        try:
            data = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
        except FileNotFoundError:
            raise ConfigError(f"config file not found: {path}") from None
        except yaml.YAMLError as exc:
            raise ConfigError(f"config file {path} is not valid YAML: {exc}") from None
        if not isinstance(data, dict):
            raise ConfigError(f"config file {path}: the top level must be a mapping")
    data = apply_env(data, environ)
    try:
        return Config.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(_explain(exc)) from None
