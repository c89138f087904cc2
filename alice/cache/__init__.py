"""The smart cache: L1 exact → L2 semantic → L3 negative, tenant-scoped, with a correctness gate.

    keys.py      canonical request key (namespace, route, parameters, history) + text policy (text.py)
    gate.py      the correctness gate (numbers, time, negation, names, opposites, word order, slots)
    bands.py     similarity bands ("spiral" tiers, golden-ratio steps) → serve / verify / miss
    semantic.py  in-process vector index per partition (numpy), bounded by bytes
    tiers.py     TTL tiers L1…L10 from the profile, promotion by hits, intent-aware caps
    negative.py  which failures are deterministic enough to cache briefly
    engine.py    SmartCache: lookup (stage), write_back (after-hook), prime (warming hook), purge, stats
    wiring.py    install(gw): stage, after-hook, GET /api/monitoring/cache, POST /api/cache/purge
    stores       alice/state/cache_port.py, cache_memory.py, cache_sqlite.py, cache_redis.py

Defaults (config `cache:`; see settings.py): enabled; SQLite store at <state.dir>/cache.sqlite3;
64 MiB hot tier and 32 MiB index in memory; exact tier always on; semantic tier on for the
assistant surface and off on /v1/chat/completions unless enabled per public model
(`cache.semantic.models: {chat: true}`); first-stage embedder `static` (64-d, sub-millisecond),
verifier `e5` for the verify bands; text policy `full` on the assistant surface, `none` on
the OpenAI surface; answers with tool calls are not cached; tenants never share entries
unless `cache.namespaces` maps them to one namespace.
"""

from alice.cache.engine import CacheLookup, SmartCache
from alice.cache.settings import CacheSettings, load_settings

__all__ = ["CacheLookup", "CacheSettings", "SmartCache", "load_settings"]
