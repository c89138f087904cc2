"""get_embedder: one instance per name, loaded once even when threads ask together."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor

from alice.nlu import embed


def test_threads_asking_together_share_one_load(monkeypatch) -> None:
    loads: list[float] = []

    def slow() -> object:
        loads.append(time.monotonic())
        time.sleep(0.2)
        return object()

    monkeypatch.setitem(embed._FACTORIES, "slow-model", slow)
    start = threading.Barrier(4)

    def ask() -> object:
        start.wait()
        return embed.get_embedder("slow-model")

    with ThreadPoolExecutor(4) as pool:
        got = list(pool.map(lambda _: ask(), range(4)))
    assert len(loads) == 1 and all(g is got[0] for g in got)


def test_a_slow_load_does_not_hold_up_another_model(monkeypatch) -> None:
    entered, release = threading.Event(), threading.Event()

    def blocked_load() -> object:
        entered.set()
        release.wait(10)
        return object()

    monkeypatch.setitem(embed._FACTORIES, "blocked-model", blocked_load)
    monkeypatch.setitem(embed._FACTORIES, "quick-model", object)
    blocked = threading.Thread(target=embed.get_embedder, args=("blocked-model",))
    blocked.start()
    try:
        assert entered.wait(5)  # the blocked load holds its lock now
        started = time.monotonic()
        embed.get_embedder("quick-model")
        assert time.monotonic() - started < 5
    finally:
        release.set()
        blocked.join()


def test_the_static_embedder_gives_the_packages_own_vectors() -> None:
    import numpy as np
    import static_model

    texts = ["hur många invånare har Sverige", "What time is it?", ""]
    ours = embed.StaticEmbedder().embed(texts)
    theirs = np.array(static_model.get_embeddings(texts), dtype=np.float32)
    norms = np.linalg.norm(theirs, axis=1, keepdims=True)
    np.testing.assert_allclose(ours, theirs / np.where(norms == 0, 1, norms), atol=1e-6)
