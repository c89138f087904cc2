"""The `guard:` section of the config, validated here (the core config keeps it free-form).

    guard:
      admin_key_env: ALICE_ADMIN_KEY     # env var holding an admin key (optional)
      open_on_loopback: true             # no keys + loopback bind → open, single local user
      keys_refresh_s: 1.0                # how often a running gateway looks for new/revoked keys
      redis_prefix: "alice:"             # shared mode (state.redis_url set): key namespace
      window_s: 60                       # the sliding window of rpm / tpm
      defaults:  {rpm, tpm, daily_tokens, models, tools, max_tokens, max_messages, injection, …}
      tenants:   {NAME: same fields as defaults}
      idempotency: {enabled, ttl_s, lease_s, in_progress_wait_s, max_records}
      injection: {classifier, threshold}   # per-tenant mode: `injection: off|flag|block` in a policy
      pii:       {cloud: redact|off, restore, entities}   # what deployments with `locality: cloud` see
      guardian:  {enabled, interval_s, sustain_samples, recovery_s, levels, signals, brownout_max_tokens, …}

A key's own limits (set by `alice keys create`) win over its tenant's, which win over `defaults`.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from alice.profiles import Profile

__all__ = [
    "GuardSettings",
    "GuardianSettings",
    "IdempotencySettings",
    "InjectionSettings",
    "Levels",
    "PiiSettings",
    "Policy",
    "SignalBudgets",
    "parse_settings",
]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Policy(_Strict):
    """What a tenant (or a key) may do. None = not limited / not set at this level."""

    rpm: int | None = Field(None, ge=1)
    tpm: int | None = Field(None, ge=1)
    daily_tokens: int | None = Field(None, ge=1)
    models: list[str] | None = None
    tools: list[str] | None = None
    max_tokens: int | None = Field(None, ge=1)  # cap on max_tokens / max_completion_tokens
    max_messages: int | None = Field(None, ge=1)
    # When the client sends no max_tokens: what the token reservation assumes the answer costs.
    default_completion_tokens: int | None = Field(None, ge=1)
    # Prompt-injection screening (used once alice.guard.injection exists): off | flag | block.
    injection: Literal["off", "flag", "block"] | None = None

    def over(self, base: Policy) -> Policy:
        """This policy with every unset field taken from `base`."""
        mine = self.model_dump(exclude_none=True)
        return Policy.model_validate({**base.model_dump(exclude_none=True), **mine})


DEFAULT_POLICY = Policy(max_messages=256, default_completion_tokens=512, injection="flag")


class IdempotencySettings(_Strict):
    enabled: bool = True
    ttl_s: float = Field(86400, gt=0)  # how long a finished answer is replayed
    lease_s: float = Field(300, gt=0)  # a pending record expires after this (its owner died)
    # A duplicate of a request still running waits this long for it, then gets 409. The default
    # also covers the short gap between a response leaving and its record being stored.
    in_progress_wait_s: float = Field(1.0, ge=0)
    max_records: int = Field(10_000, ge=1)  # embedded store only


class Levels(_Strict):
    """Pressure levels, as multiples of each signal's budget. Default: the profile's thresholds
    (fibonacci: brownout soft 0.618, hard 1.0; emergency soft 1.618, hard 2.618; recover below
    1.0 from emergency and below 0.382 from brownout)."""

    brownout_soft: float | None = Field(None, gt=0)
    brownout_hard: float | None = Field(None, gt=0)
    emergency_soft: float | None = Field(None, gt=0)
    emergency_hard: float | None = Field(None, gt=0)
    recover_emergency: float | None = Field(None, gt=0)
    recover_brownout: float | None = Field(None, gt=0)

    def resolve(self, profile: Profile) -> dict[str, float]:
        t = profile.thresholds
        out = {
            "brownout_soft": self.brownout_soft or t.mid, "brownout_hard": self.brownout_hard or 1.0,
            "emergency_soft": self.emergency_soft or t.high, "emergency_hard": self.emergency_hard or t.very_high,
            "recover_emergency": self.recover_emergency or 1.0, "recover_brownout": self.recover_brownout or t.low,
        }
        if not (out["recover_brownout"] <= out["brownout_soft"] <= out["brownout_hard"]
                <= out["emergency_hard"] and out["recover_emergency"] <= out["emergency_soft"]
                <= out["emergency_hard"] and out["brownout_soft"] <= out["emergency_soft"]):
            raise ValueError(f"guard.guardian.levels are not ordered (recover < soft <= hard): {out}")
        return out


class SignalBudgets(_Strict):
    """The load each signal may reach (pressure 1.0). None switches a signal off.

    Machine-wide CPU and memory are off by default: on a shared box (CI, a laptop) other
    programs move them, and Alice would shed its own traffic for load it did not cause. The
    process-level signals and the event-loop lag measure Alice itself."""

    # Cores used by this process. 1.4: the soft level (0.618 × 1.4 ≈ 0.87 of a core) is near the
    # saturation of one Python event loop; beyond one core, worker threads (embeddings, SQLite) are busy too.
    process_cpu: float | None = Field(1.4, gt=0)
    process_memory_mb: float | None = Field(4096, gt=0)  # resident set size
    loop_lag_ms: float | None = Field(250, gt=0)  # how late a timer wakes up on the event loop
    in_flight: float | None = Field(256, gt=0)  # admitted chat requests not finished yet
    queue_ms: float | None = Field(500, gt=0)  # median wait from receive to admission in a sample
    machine_cpu: float | None = Field(None, gt=0)  # opt-in: fraction of all cores busy (0..1)
    machine_memory_mb: float | None = Field(None, gt=0)  # opt-in: total minus available memory


class GuardianSettings(_Strict):
    enabled: bool = True
    interval_s: float = Field(0.25, gt=0, le=10)
    sustain_samples: int = Field(3, ge=1)  # a soft level must hold this many samples in a row
    smooth_samples: int = Field(3, ge=1)  # each signal is the median of its last N samples (1 = raw)
    recovery_s: float = Field(5.0, ge=0)  # calm held this long before stepping down one level
    levels: Levels = Levels()
    signals: SignalBudgets = SignalBudgets()
    brownout_max_tokens: int = Field(256, ge=1)  # max_tokens cap while in BROWNOUT
    emergency_retry_after_s: float = Field(5.0, gt=0)
    history: int = Field(50, ge=1)  # transitions kept for /api/guardian/state


class InjectionSettings(_Strict):
    # The e5 classifier layer costs one embedding per request; the pattern layer (tens of µs)
    # always runs. Per-tenant mode (off | flag | block) is `injection` in defaults / tenants.
    classifier: bool = False
    threshold: float | None = Field(None, gt=0, lt=1)  # None: the classifier's calibrated threshold


class PiiSettings(_Strict):
    # redact: deployments with `locality: cloud` get PII replaced by placeholders (`<EMAIL_ADDRESS_1>`);
    # off: they get the raw text. Local deployments always get the raw text.
    cloud: Literal["redact", "off"] = "redact"
    # Put the originals back where the reply repeats a placeholder; false: the client sees placeholders.
    restore: bool = True
    # Which entities (alice.guard.pii.ENTITIES); None: every one that needs no model.
    entities: list[str] | None = None


class GuardSettings(_Strict):
    admin_key_env: str | None = "ALICE_ADMIN_KEY"
    open_on_loopback: bool = True
    keys_path: str | None = None  # embedded key store; default <state.dir>/keys.sqlite3
    keys_refresh_s: float = Field(1.0, gt=0)
    redis_prefix: str = Field("alice:", min_length=1)
    window_s: float = Field(60.0, gt=0)
    defaults: Policy = Policy()
    tenants: dict[str, Policy] = {}
    idempotency: IdempotencySettings = IdempotencySettings()
    guardian: GuardianSettings = GuardianSettings()
    injection: InjectionSettings = InjectionSettings()
    pii: PiiSettings = PiiSettings()

    @model_validator(mode="after")
    def _defaults(self) -> GuardSettings:
        self.defaults = self.defaults.over(DEFAULT_POLICY)
        return self

    def policy_for(self, tenant: str) -> Policy:
        own = self.tenants.get(tenant)
        return own.over(self.defaults) if own is not None else self.defaults


def parse_settings(raw: dict[str, Any]) -> GuardSettings:
    """Validate `config.guard`; a bad value raises ValueError naming its path."""
    try:
        return GuardSettings.model_validate(raw or {})
    except ValidationError as exc:
        lines = [f"  guard.{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors()]
        raise ValueError("invalid guard configuration:\n" + "\n".join(lines)) from None
