"""Fixtures for the cache tests."""

from __future__ import annotations

from typing import Any

import pytest

from alice.cache.engine import SmartCache
from alice.cache.settings import load_settings
from alice.profiles import get_profile
from tests.cache.cache_helpers import BagEmbedder


@pytest.fixture
async def make_cache(tmp_path):
    made: list[SmartCache] = []

    async def make(section: dict[str, Any] | None = None, profile: str = "fibonacci", **kw: Any) -> SmartCache:
        section = {"store": "memory", **(section or {})}
        sem = section.setdefault("semantic", {})
        sem.setdefault("verifier", None)
        # The bag-of-words test embedder scores one changed word in five at 0.8: let the cheap
        # lexical check serve from there, as static does from its calibrated floor.
        sem.setdefault("lexical_floor", 0.6)
        cache = SmartCache(load_settings(section), get_profile(profile), state_dir=tmp_path,
                           embedder=kw.pop("embedder", BagEmbedder()), **kw)
        await cache.start()
        made.append(cache)
        return cache

    yield make
    for cache in made:
        await cache.close()
