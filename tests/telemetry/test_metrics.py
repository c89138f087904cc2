import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families

from alice.backends.deployment import Attempt
from alice.profiles import FIBONACCI_PROFILE, STANDARD_PROFILE
from alice.telemetry.metrics import BoundedLabel, Metrics


def parse(body: bytes) -> dict[str, list]:
    out: dict[str, list] = {}
    for fam in text_string_to_metric_families(body.decode()):
        for s in fam.samples:
            out.setdefault(s.name, []).append(s)
    return out


def value(samples: dict[str, list], metric: str, **labels: str) -> float:
    return sum(s.value for s in samples.get(metric, []) if all(s.labels.get(k) == v for k, v in labels.items()))


def observe(m: Metrics, **kw) -> None:
    base = dict(route="chat", backend="b1", model="chat", status=200, total_ms=12.0, overhead_ms=0.4,
                ttft_ms=None, upstream_ms=11.0, cache="miss", tokens_in=10, tokens_out=20, cost=0.003, attempts=())
    base.update(kw)
    m.observe(*base.values())


def test_counts_histograms_and_buckets_from_the_profile() -> None:
    m = Metrics(FIBONACCI_PROFILE, public_models=["chat"])
    observe(m)
    observe(m, status=502, attempts=[Attempt("b1", "Overloaded", 3.0, 503), Attempt("b2", "ok", 5.0, 200)])
    observe(m, backend="cache", cache="exact", upstream_ms=None, tokens_in=0, tokens_out=0, cost=0.0,
            ttft_ms=7.0)
    s = parse(m.render()[0])
    assert value(s, "alice_requests_total") == 3
    assert value(s, "alice_requests_total", route="chat", backend="b1", model="chat", status="502") == 1
    assert value(s, "alice_cache_requests_total", tier="exact") == 1
    assert value(s, "alice_tokens_total", backend="b1", direction="out") == 40
    assert value(s, "alice_cost_total", backend="b1") == pytest.approx(0.006)
    assert value(s, "alice_upstream_attempts_total", backend="b1", outcome="Overloaded") == 1
    assert value(s, "alice_time_to_first_token_milliseconds_count") == 1
    # The buckets are the profile's: fibonacci 1…987 ms for requests, …10946 ms for model calls.
    les = [float(x.labels["le"]) for x in s["alice_request_duration_milliseconds_bucket"]]
    assert les[:-1] == list(FIBONACCI_PROFILE.latency_buckets_ms) and les[-1] == float("inf")
    assert les[:6] == [1, 2, 3, 5, 8, 13] and 987.0 in les
    up = [float(x.labels["le"]) for x in s["alice_upstream_duration_milliseconds_bucket"]]
    assert up[-2] == 10946.0
    ov = [float(x.labels["le"]) for x in s["alice_overhead_milliseconds_bucket"]]
    assert ov[:-1] == list(FIBONACCI_PROFILE.overhead_buckets_ms)
    # 12 ms lands in the 13 ms bucket, not in 8.
    assert value(s, "alice_request_duration_milliseconds_bucket", le="8.0") == 0
    assert value(s, "alice_request_duration_milliseconds_bucket", le="13.0") == 3


def test_standard_profile_buckets() -> None:
    m = Metrics(STANDARD_PROFILE, public_models=["chat"])
    observe(m)
    s = parse(m.render()[0])
    les = [float(x.labels["le"]) for x in s["alice_request_duration_milliseconds_bucket"]]
    assert les[:-1] == [float(2**i) for i in range(11)]


def test_label_cardinality_is_bounded() -> None:
    m = Metrics(FIBONACCI_PROFILE, public_models=["chat"], model_labels=["gpt-x"], max_label_values=3)
    for i in range(10):
        observe(m, model=f"client-model-{i}", route=f"r{i}")
    observe(m, model="gpt-x")
    s = parse(m.render()[0])
    models = {x.labels["model"] for x in s["alice_requests_total"]}
    assert models == {"other", "gpt-x"}
    routes = {x.labels["route"] for x in s["alice_requests_total"]}
    assert routes == {"r0", "r1", "r2", "other"}
    assert value(s, "alice_requests_total") == 11


def test_bounded_label() -> None:
    b = BoundedLabel(2, allowed=["a"])
    assert [b(x) for x in ("a", "b", "c", "b")] == ["a", "b", "other", "b"]


def test_state_is_read_at_scrape_time() -> None:
    m = Metrics(FIBONACCI_PROFILE, public_models=[])
    state = {"n": 1.0}
    m.set_state_reader(lambda: {"alice_inflight_requests": [((), state["n"])],
                                "alice_breaker_state": [(("b1", "open"), 1.0), (("b1", "closed"), 0.0)]})
    assert value(parse(m.render()[0]), "alice_inflight_requests") == 1
    state["n"] = 7.0
    s = parse(m.render()[0])
    assert value(s, "alice_inflight_requests") == 7
    assert value(s, "alice_breaker_state", deployment="b1", state="open") == 1


def test_registries_are_independent() -> None:
    a = Metrics(FIBONACCI_PROFILE, public_models=["chat"])
    b = Metrics(FIBONACCI_PROFILE, public_models=["chat"])  # no "duplicated timeseries" error
    observe(a)
    assert value(parse(b.render()[0]), "alice_requests_total") == 0


WORKER = textwrap.dedent("""
    import sys
    from alice.profiles import FIBONACCI_PROFILE
    from alice.telemetry.metrics import Metrics
    m = Metrics(FIBONACCI_PROFILE, public_models=["chat"])
    assert m.multiprocess
    for _ in range(int(sys.argv[1])):
        m.observe("chat", "b1", "chat", 200, 12.0, 0.4, None, 11.0, "miss", 1, 2, 0.0, ())
    m.set_state_reader(lambda: {"alice_inflight_requests": [((), 3.0)]})
    m.sample_state()
    if sys.argv[2] == "render":
        sys.stdout.write(m.render()[0].decode())
""")


def test_multiprocess_mode_sums_all_workers(tmp_path: Path) -> None:
    env = {**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(tmp_path)}
    for n in (5, 7):
        subprocess.run([sys.executable, "-c", WORKER, str(n), "quiet"], env=env, check=True)
    out = subprocess.run([sys.executable, "-c", WORKER, "11", "render"], env=env, check=True,
                         capture_output=True).stdout
    s = parse(out)
    assert value(s, "alice_requests_total") == 23
    assert value(s, "alice_request_duration_milliseconds_count") == 23
    assert value(s, "alice_tokens_total", direction="out") == 46
    # livesum adds every worker that has not marked itself dead (the first two did not): 3 × 3.
    assert value(s, "alice_inflight_requests") == 9


def test_mark_dead_drops_live_gauges(tmp_path: Path) -> None:
    env = {**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(tmp_path)}
    script = WORKER + textwrap.dedent("""
        from alice.telemetry.multiproc import mark_dead
        mark_dead()
    """)
    subprocess.run([sys.executable, "-c", script, "2", "quiet"], env=env, check=True)
    out = subprocess.run([sys.executable, "-c", WORKER, "1", "render"], env=env, check=True,
                         capture_output=True).stdout
    s = parse(out)
    assert value(s, "alice_requests_total") == 3  # counters of a dead worker still count
    assert value(s, "alice_inflight_requests") == 3  # only the live worker's gauge
