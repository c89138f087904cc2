"""The `telemetry:` section of the config, validated here (the core config keeps it free-form).

    telemetry:
      enabled:   true (false installs nothing)
      metrics:   {enabled, model_labels, max_label_values}
      log:       {enabled, store: sqlite|postgres, path, postgres_dsn, table, flush_interval_s,
                  max_buffer, retention_days, text: none|redacted}
      slo:       {latency_p95_ms, success_rate, cache_hit_rate, tool_precision, windows_s, slot_s,
                  fast_burn, slow_burn, min_events, route_alerts, evaluate_interval_s}
      events:    {webhook: {url, …}, amqp: {url, exchange}, redis: {url, stream}, health_interval_s}
      usage:     {max_tenants}
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from alice.profiles import Profile

__all__ = [
    "AmqpSettings",
    "EventSettings",
    "LogSettings",
    "MetricsSettings",
    "RedisStreamSettings",
    "RouteAlert",
    "SloSettings",
    "TelemetrySettings",
    "WebhookSettings",
    "parse_settings",
]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class MetricsSettings(_Strict):
    enabled: bool = True
    # Client-sent model names become label values only if they are public models or listed here;
    # anything else is counted as "other", so a client cannot blow up the series count.
    model_labels: list[str] = []
    # Hard cap of distinct values per label (route, backend, …); the overflow is "other".
    max_label_values: int = Field(64, ge=1)


class LogSettings(_Strict):
    enabled: bool = True
    store: Literal["sqlite", "postgres"] = "sqlite"
    path: str | None = None  # default: <state.dir>/requests.sqlite3
    postgres_dsn: str | None = None  # default: state.postgres_dsn
    table: str = Field("alice_requests", pattern=r"^[a-z_][a-z0-9_]{0,40}$")
    flush_interval_s: float = Field(0.5, gt=0, le=5)
    max_buffer: int = Field(100_000, ge=100)
    retention_days: float = Field(30, gt=0)
    # "none": no message text is ever logged; "redacted": the last user message after
    # alice.guard.pii.redact (if that module is missing, no text is logged).
    text: Literal["none", "redacted"] = "none"


class RouteAlert(_Strict):
    warning_ms: float = Field(gt=0)
    critical_ms: float = Field(gt=0)

    @model_validator(mode="after")
    def _ordered(self) -> RouteAlert:
        if self.critical_ms < self.warning_ms:
            raise ValueError("critical_ms must be >= warning_ms")
        return self


class SloSettings(_Strict):
    latency_p95_ms: float = Field(900, gt=0)
    success_rate: float = Field(0.98, gt=0, lt=1)
    cache_hit_rate: float = Field(0.40, gt=0, lt=1)
    tool_precision: float = Field(0.85, gt=0, lt=1)
    windows_s: list[int] = Field(default_factory=lambda: [300, 3600, 21600])
    slot_s: int = Field(10, ge=1)
    # Multi-window burn-rate alerting (Google SRE workbook): "fast" fires when the shortest and the
    # middle window both burn faster than this; "slow" when the longest and the middle one do.
    fast_burn: float = Field(14.4, gt=0)
    slow_burn: float = Field(6.0, gt=0)
    min_events: int = Field(20, ge=1)  # below this many events in a window, no alert
    # Per-route p95 alerts over the shortest window; default: the profile's thresholds for "micro".
    route_alerts: dict[str, RouteAlert] | None = None
    evaluate_interval_s: float = Field(10, gt=0)

    @model_validator(mode="after")
    def _windows(self) -> SloSettings:
        if len(self.windows_s) < 2:
            raise ValueError("windows_s needs at least two windows (short, long)")
        if any(w % self.slot_s for w in self.windows_s):
            raise ValueError(f"every window must be a multiple of slot_s ({self.slot_s} s)")
        self.windows_s = sorted(set(self.windows_s))
        return self

    def alerts_for(self, profile: Profile) -> dict[str, RouteAlert]:
        if self.route_alerts is not None:
            return self.route_alerts
        return {"micro": RouteAlert(warning_ms=profile.slo_p95_warning_ms, critical_ms=profile.slo_p95_critical_ms)}


class WebhookSettings(_Strict):
    url: str
    timeout_s: float = Field(5.0, gt=0)
    retries: int = Field(3, ge=0)
    backoff_s: float = Field(0.5, ge=0)
    headers: dict[str, str] = {}


class AmqpSettings(_Strict):
    url: str = "amqp://guest:guest@127.0.0.1:5672/"
    exchange: str = "alice.events"


class RedisStreamSettings(_Strict):
    url: str | None = None  # default: state.redis_url
    stream: str = "alice:events"
    maxlen: int = Field(10_000, ge=1)


class EventSettings(_Strict):
    webhook: WebhookSettings | None = None
    amqp: AmqpSettings | None = None
    redis: RedisStreamSettings | None = None
    queue_size: int = Field(1000, ge=1)
    # Active reachability probe of each backend (GET /models); 0 = off, and then backend
    # down/up follows the breakers (down when one opens, up when it closes again).
    health_interval_s: float = Field(0, ge=0)


class UsageSettings(_Strict):
    max_tenants: int = Field(500, ge=1)  # distinct tenants/agents kept per 10-s slot; overflow "other"


class TelemetrySettings(_Strict):
    # false: nothing is installed (no observer, no routes): for measuring what telemetry costs.
    enabled: bool = True
    metrics: MetricsSettings = MetricsSettings()
    log: LogSettings = LogSettings()
    slo: SloSettings = SloSettings()
    events: EventSettings = EventSettings()
    usage: UsageSettings = UsageSettings()


def parse_settings(raw: dict[str, Any]) -> TelemetrySettings:
    """Validate `config.telemetry`; a bad value raises ValueError naming its path."""
    try:
        return TelemetrySettings.model_validate(raw or {})
    except ValidationError as exc:
        lines = [f"  telemetry.{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors()]
        raise ValueError("invalid telemetry configuration:\n" + "\n".join(lines)) from None
