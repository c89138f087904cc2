"""Rolling windows in memory: what the monitoring API, the dashboard and the SLOs read.

Time is cut into slots (10 s by default); each slot keeps counts and sparse latency histograms
per route, backend, intent, tenant and agent. A window (5 min, 1 h, 6 h) is the sum of its
slots, so every figure is computed from what was observed, and old slots simply fall away.

Reading a long window must not stall the event loop: every finished slot is also folded into
its block of 30 slots (5 min), so a 6-h window merges ≈ 70 blocks and a few slots instead of
2,160 slots; the SLO evaluation merges only the counters it needs; and a merged window is
memoised for one second, so the dashboard's parallel polls share one merge.

Latency histograms use log-spaced buckets (ratio 1.1 from 0.01 ms), so a quantile read from
them is within ±5 % of the true value at any scale, from overhead (µs) to model calls (s).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterable
from typing import Any

__all__ = ["Agg", "Live", "Slot", "bucket_of", "bucket_value", "quantile"]

_BASE_MS = 0.01
_RATIO = 1.1
_LOG_RATIO = math.log(_RATIO)
_MAX_BUCKET = 200  # 0.01 ms × 1.1**200 ≈ 1.9 h: far above any deadline


def bucket_of(ms: float) -> int:
    if ms <= _BASE_MS:
        return 0
    return min(_MAX_BUCKET, int(math.log(ms / _BASE_MS) / _LOG_RATIO) + 1)


def bucket_value(i: int) -> float:
    """A bucket's representative value: the geometric middle of its edges."""
    if i == 0:
        return _BASE_MS
    return _BASE_MS * _RATIO ** (i - 0.5)


def quantile(hist: dict[int, int], q: float) -> float | None:
    total = sum(hist.values())
    if total == 0:
        return None
    rank = q * total
    seen = 0
    for i in sorted(hist):
        seen += hist[i]
        if seen >= rank:
            return bucket_value(i)
    return bucket_value(max(hist))


def _merge_hist(into: dict[int, int], other: dict[int, int]) -> None:
    for k, v in other.items():
        into[k] = into.get(k, 0) + v


class Agg:
    """Counts for one key (a route, a backend, a tenant, …) in one slot or one window."""

    __slots__ = ("cost", "errors", "lat", "n", "tokens_in", "tokens_out")

    def __init__(self) -> None:
        self.n = 0
        self.errors = 0
        self.lat: dict[int, int] = {}
        self.tokens_in = 0
        self.tokens_out = 0
        self.cost = 0.0

    def add(self, failed: bool, bucket: int, tokens_in: int, tokens_out: int, cost: float) -> None:
        """One request; `bucket` is its latency bucket (`bucket_of(ms)`), or -1 for none."""
        self.n += 1
        if failed:
            self.errors += 1
        if bucket >= 0:
            lat = self.lat
            lat[bucket] = lat.get(bucket, 0) + 1
        if tokens_in or tokens_out or cost:
            self.tokens_in += tokens_in
            self.tokens_out += tokens_out
            self.cost += cost

    def merge(self, other: Agg) -> None:
        self.n += other.n
        self.errors += other.errors
        _merge_hist(self.lat, other.lat)
        self.tokens_in += other.tokens_in
        self.tokens_out += other.tokens_out
        self.cost += other.cost

    def summary(self, seconds: float) -> dict[str, Any]:
        return {
            "requests": self.n,
            "rps": round(self.n / seconds, 3) if seconds > 0 else 0.0,
            "errors": self.errors,
            "error_rate": round(self.errors / self.n, 4) if self.n else None,
            "p50_ms": _round(quantile(self.lat, 0.50)),
            "p95_ms": _round(quantile(self.lat, 0.95)),
            "tokens_in": self.tokens_in,
            "tokens_out": self.tokens_out,
            "cost": round(self.cost, 6),
        }


_KEYED = ("routes", "intents", "backends", "tenants", "agents")


def _merge_slot(out: Slot, s: Slot, full: bool) -> None:
    """Add slot `s` into `out`. Light merges (full=False) skip the per-key tables and the ttft /
    upstream histograms: enough for SLO arithmetic and timelines."""
    out.all.merge(s.all)
    _merge_hist(out.overhead, s.overhead)
    for k, v in s.statuses.items():
        out.statuses[k] = out.statuses.get(k, 0) + v
    for k2, v in s.cache.items():
        out.cache[k2] = out.cache.get(k2, 0) + v
    for key, counts in s.feedback.items():
        acc = out.feedback.get(key)
        if acc is None:
            acc = out.feedback[key] = [0, 0, 0]
        acc[0] += counts[0]
        acc[1] += counts[1]
        acc[2] += counts[2]
    out.slo_n += s.slo_n
    out.slo_failed += s.slo_failed
    out.lat_n += s.lat_n
    out.slow += s.slow
    out.cache_eligible += s.cache_eligible
    out.cache_hits += s.cache_hits
    if not full:
        return
    _merge_hist(out.ttft, s.ttft)
    _merge_hist(out.upstream, s.upstream)
    for name in _KEYED:
        into: dict[str, Agg] = getattr(out, name)
        for k3, a in getattr(s, name).items():
            acc_a = into.get(k3)
            if acc_a is None:
                acc_a = into[k3] = Agg()
            acc_a.merge(a)


def _round(v: float | None) -> float | None:
    return None if v is None else round(v, 3)


class Slot:
    """Everything observed during one slot of time."""

    __slots__ = ("agents", "all", "backends", "cache", "cache_eligible", "cache_hits", "feedback", "index",
                 "intents", "lat_n", "overhead", "routes", "slo_failed", "slo_n", "slow", "statuses", "tenants",
                 "ttft", "upstream")

    def __init__(self, index: int) -> None:
        self.index = index
        self.all = Agg()
        self.overhead: dict[int, int] = {}
        self.ttft: dict[int, int] = {}
        self.upstream: dict[int, int] = {}
        self.statuses: dict[int, int] = {}
        self.cache: dict[str, int] = {}
        self.routes: dict[str, Agg] = {}
        self.intents: dict[str, Agg] = {}
        self.backends: dict[str, Agg] = {}
        self.tenants: dict[str, Agg] = {}
        self.agents: dict[str, Agg] = {}
        # SLO event counts (see slo.py for what counts as good or bad)
        self.slo_n = 0
        self.slo_failed = 0
        self.lat_n = 0
        self.slow = 0
        self.cache_eligible = 0
        self.cache_hits = 0
        # (route, intent, tool or "") -> [good, bad, neutral]
        self.feedback: dict[tuple[str, str, str], list[int]] = {}


def _bump(d: dict[str, Agg], key: str, cap: int) -> Agg:
    a = d.get(key)
    if a is None:
        if len(d) >= cap:
            key = "other"
            a = d.get(key)
        if a is None:
            a = d[key] = Agg()
    return a


class Live:
    """The rolling windows. `add` runs on the hot path (inside the telemetry observer)."""

    def __init__(
        self,
        *,
        slot_s: int = 10,
        horizon_s: int = 21600,
        latency_target_ms: float = 900.0,
        max_keys: int = 500,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.slot_s = slot_s
        self.n_slots = max(1, horizon_s // slot_s)
        self.latency_target_ms = latency_target_ms
        self.max_keys = max_keys
        self.clock = clock
        self.reset()

    BLOCK = 30  # slots folded together (5 min with 10-s slots)
    MEMO_S = 1.0

    def reset(self) -> None:
        self.started = self.clock()
        self._slots: dict[int, Slot] = {}
        self._blocks: dict[int, Slot] = {}  # block index -> fold of its finished slots
        self._cur: Slot | None = None
        self._cur_end = 0.0
        self._memo: dict[tuple[Any, ...], tuple[float, Any]] = {}
        self._finished: list[Slot] = []

    def _slot(self) -> Slot:
        now = self.clock()
        cur = self._cur
        if cur is not None and now < self._cur_end:
            return cur
        idx = int(now // self.slot_s)
        if cur is not None and cur.index == idx:
            return cur
        if cur is not None:
            self._finished.append(cur)  # final now; folded into its block at the next read
        cur = self._slots.get(idx)
        if cur is None:
            cur = self._slots[idx] = Slot(idx)
            oldest = idx - self.n_slots
            for old in [i for i in self._slots if i <= oldest]:
                del self._slots[old]
            for old in [b for b in self._blocks if (b + 1) * self.BLOCK - 1 <= oldest]:
                del self._blocks[old]
        self._cur = cur
        self._cur_end = (idx + 1) * self.slot_s
        return cur

    def add(
        self,
        *,
        route: str,
        backend: str,
        intent: str | None,
        tenant: str,
        agent: str | None,
        status: int,
        total_ms: float,
        slo_ms: float,
        overhead_ms: float,
        ttft_ms: float | None,
        upstream_ms: float | None,
        cache: str,
        tokens_in: int,
        tokens_out: int,
        cost: float,
    ) -> None:
        s = self._slot()
        failed = status >= 500
        lat_b = bucket_of(total_ms)
        up_b = bucket_of(upstream_ms) if upstream_ms is not None else -1
        s.all.add(failed, lat_b, tokens_in, tokens_out, cost)
        s.statuses[status] = s.statuses.get(status, 0) + 1
        b = bucket_of(overhead_ms)
        s.overhead[b] = s.overhead.get(b, 0) + 1
        if ttft_ms is not None:
            b = bucket_of(ttft_ms)
            s.ttft[b] = s.ttft.get(b, 0) + 1
        if up_b >= 0:
            s.upstream[up_b] = s.upstream.get(up_b, 0) + 1
        s.cache[cache] = s.cache.get(cache, 0) + 1
        cap = self.max_keys
        _bump(s.routes, route, cap).add(failed, lat_b, tokens_in, tokens_out, cost)
        _bump(s.backends, backend, cap).add(failed, up_b, tokens_in, tokens_out, cost)
        if intent:
            _bump(s.intents, intent, cap).add(failed, lat_b, 0, 0, 0.0)
        _bump(s.tenants, tenant, cap).add(failed, -1, tokens_in, tokens_out, cost)
        if agent:
            _bump(s.agents, agent, cap).add(failed, -1, tokens_in, tokens_out, cost)
        # SLO events: a client that went away (499) is neither good nor bad.
        if status == 499:
            return
        s.slo_n += 1
        if failed:
            s.slo_failed += 1
            return
        s.lat_n += 1
        if slo_ms > self.latency_target_ms:
            s.slow += 1
        if status < 400:
            s.cache_eligible += 1
            if cache != "miss":
                s.cache_hits += 1

    def add_feedback(self, route: str, intent: str, tool: str, verdict: int) -> None:
        s = self._slot()
        key = (route, intent, tool)
        counts = s.feedback.get(key)
        if counts is None:
            counts = s.feedback[key] = [0, 0, 0]
        counts[0 if verdict > 0 else 1 if verdict < 0 else 2] += 1

    # --- reading ---

    def _fold_finished(self) -> None:
        """Fold finished slots into their blocks (on the read side, not in `add`)."""
        finished, self._finished = self._finished, []
        for s in finished:
            b = s.index // self.BLOCK
            block = self._blocks.get(b)
            if block is None:
                block = self._blocks[b] = Slot(-1)
            _merge_slot(block, s, True)

    def _range(self, lo: int, hi: int, full: bool) -> Slot:
        """Merge slot indexes lo..hi, using whole blocks where they fit (a block is complete when
        the current, unfolded slot is not in it)."""
        self._fold_finished()
        out = Slot(-1)
        B = self.BLOCK
        cur_block = self._cur.index // B if self._cur is not None else None
        idx = lo
        while idx <= hi:
            b = idx // B
            if idx % B == 0 and idx + B - 1 <= hi and b != cur_block:
                block = self._blocks.get(b)
                if block is not None:
                    _merge_slot(out, block, full)
                idx += B
                continue
            s = self._slots.get(idx)
            if s is not None:
                _merge_slot(out, s, full)
            idx += 1
        return out

    def _bounds(self, seconds: float) -> tuple[int, int]:
        cur = int(self.clock() // self.slot_s)
        return cur - max(1, math.ceil(seconds / self.slot_s)) + 1, cur

    def _memoised(self, key: tuple[Any, ...], make: Callable[[], Any]) -> Any:
        now = self.clock()
        hit = self._memo.get(key)
        if hit is not None and hit[0] > now:
            return hit[1]
        value = make()
        self._memo[key] = (now + self.MEMO_S, value)
        return value

    def slots(self, seconds: float) -> Iterable[Slot]:
        """The slots of the last `seconds` (the current, partial slot included)."""
        lo, hi = self._bounds(seconds)
        for idx in range(lo, hi + 1):
            s = self._slots.get(idx)
            if s is not None:
                yield s

    def span(self, seconds: float) -> float:
        """How many seconds of the window have actually been observed (for rates)."""
        now = self.clock()
        return max(1e-9, min(seconds, now - self.started))

    def merged(self, seconds: float, *, full: bool = True) -> Slot:
        """Everything observed in the last `seconds` (memoised for up to one second; read only)."""
        return self._memoised(("merged", seconds, full), lambda: self._range(*self._bounds(seconds), full))

    def timeline(self, seconds: float, points: int = 60) -> list[dict[str, Any]]:
        """Per-step series (oldest first): requests/s, errors/s, p50/p95, overhead p50, cache hit rate."""
        return self._memoised(("timeline", seconds, points), lambda: self._timeline(seconds, points))

    def _timeline(self, seconds: float, points: int) -> list[dict[str, Any]]:
        first, cur = self._bounds(seconds)
        k = cur - first + 1
        per = max(1, math.ceil(k / points))
        if per >= self.BLOCK:  # whole blocks per step: align the steps on block boundaries
            per = math.ceil(per / self.BLOCK) * self.BLOCK
            first = (first // self.BLOCK) * self.BLOCK
        out = []
        step_s = per * self.slot_s
        for start in range(first, cur + 1, per):
            m = self._range(start, min(start + per - 1, cur), False)
            agg = m.all
            out.append({
                "t": start * self.slot_s,
                "rps": round(agg.n / step_s, 3),
                "errors_per_s": round(agg.errors / step_s, 3),
                "p50_ms": _round(quantile(agg.lat, 0.5)),
                "p95_ms": _round(quantile(agg.lat, 0.95)),
                "overhead_p50_ms": _round(quantile(m.overhead, 0.5)),
                "cache_hit_rate": round(m.cache_hits / m.cache_eligible, 4) if m.cache_eligible else None,
            })
        return out
