"""The smart cache: L1 exact → L2 semantic → L3 negative, with TTL tiers and a correctness gate.

    lookup(turn)      the pipeline stage: answers a hit by setting turn.answer (or raising the
                      cached failure) and records turn.cache / turn.similarity
    write_back(turn)  the after-hook: stores a complete answer or a deterministic failure
    prime(...)        the warming hook: put an answer in without a request
    purge(namespace)  drop entries (one tenant's namespace, or all)
    stats()           counters per tier, store and index sizes

Records live in an in-process hot tier (bytes-bounded LRU) in front of the durable store
(SQLite or Redis, see alice/state/cache_*.py). Keys known to the durable store are kept in a
set, so a miss costs no I/O. The vector index is in-process, rebuilt from the store's records
at start-up and, with Redis, kept current from the other replicas' change stream.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import orjson

from alice.cache.bands import BAND_NAMES, DEFAULT_BASE_DISTANCE, DEFAULT_VERIFY_FLOOR, Bands
from alice.cache.gate import Facts, check, extract, overlap
from alice.cache.keys import RequestKey, build_key
from alice.cache.negative import CachedFailure, deterministic_failure
from alice.cache.semantic import VectorIndex
from alice.cache.settings import CacheSettings
from alice.cache.stats import CacheStats
from alice.cache.tiers import TtlLadder, intent_cap_s, text_cap_s
from alice.state.cache_memory import MemoryStore
from alice.state.cache_port import CacheEvent, CacheRecord, CacheStore

if TYPE_CHECKING:
    from alice.nlu.embed import Embedder
    from alice.pipeline import Turn
    from alice.profiles import Profile

__all__ = ["CacheLookup", "SmartCache"]

log = logging.getLogger("alice.cache")

# Embedders fast enough to run on the event loop (sub-millisecond); others go to a thread.
_INLINE_EMBEDDERS = frozenset({"static"})
# Verifier embeddings computed after a write, at most this many waiting (beyond: row not verifiable).
_VERIFY_BACKLOG = 256


@dataclass(slots=True)
class CacheLookup:
    """What the lookup learned, kept on `turn.meta["cache"]` for the write-back."""

    key: RequestKey
    store: bool  # False for Cache-Control: no-store
    semantic: bool
    cap_s: float | None
    vector: np.ndarray | None = None
    verify_vector: np.ndarray | None = None


def _tight(raw: bytes) -> bytes:
    """A copy sized to its content: orjson's result keeps its whole growth buffer (16 KiB for a
    2 KiB answer), which would make a held answer cost 8× what the byte budget counts."""
    return bytes(memoryview(raw))


def _cache_control(headers: dict[str, str]) -> set[str]:
    raw = headers.get("cache-control", "")
    return {d.strip().lower() for d in raw.split(",") if d.strip()}


class SmartCache:
    def __init__(
        self, settings: CacheSettings, profile: Profile, *, state_dir: Path | None = None,
        redis_url: str | None = None, store: CacheStore | None = None,
        embedder: Embedder | None = None, verifier: Embedder | None = None,
    ) -> None:
        self.settings = settings
        self.ladder = TtlLadder.from_profile(profile.cache_ttl_hours, profile.cache_promotion_hits)
        sem = settings.semantic
        base = sem.base_distance or DEFAULT_BASE_DISTANCE.get(sem.embedder, 0.0309)
        self.verify_reach = DEFAULT_VERIFY_FLOOR.get(sem.embedder) if sem.verifier else None
        self.bands = Bands.build(base, profile.thresholds.high, sem.bands, sem.actions,
                                 verify_reach=self.verify_reach)
        self.intent_caps = settings.intent_ttls()
        self.hot = MemoryStore(settings.memory_bytes, on_evict=self._evicted)
        self.durable = store if store is not None else self._make_store(settings, state_dir, redis_url)
        self._known: dict[tuple[str, str], float] = {}  # keys held by the durable store → expiry
        # Named in the settings and loaded at start-up, unless given (tests, `alice eval cache`).
        self._embedder: Embedder | None = embedder
        self._verifier: Embedder | None = verifier
        self.index: VectorIndex | None = VectorIndex(embedder.dim, settings.index_bytes) if embedder else None
        self.counters = CacheStats()
        self._tasks: set[asyncio.Task[Any]] = set()
        self._verify_backlog = 0
        self._verify_tasks: set[asyncio.Task[None]] = set()  # optional work: not waited for by flush()
        self._verifier_load: asyncio.Task[None] | None = None
        # Set by the guard: a reason not to store a turn at all (it carries PII), else None.
        self.screen: Callable[[Turn], str | None] | None = None

    @staticmethod
    def _make_store(settings: CacheSettings, state_dir: Path | None, redis_url: str | None) -> CacheStore | None:
        if settings.store == "sqlite":
            from alice.state.cache_sqlite import SqliteStore

            return SqliteStore(settings.sqlite_file(state_dir or Path(".alice")), max_entries=settings.max_entries)
        if settings.store == "redis":
            from alice.state.cache_redis import RedisStore

            url = settings.redis_url or redis_url
            if not url:
                raise ValueError("cache.store is redis but neither cache.redis_url nor state.redis_url is set")
            return RedisStore(url, settings.redis_prefix)
        return None

    # --- life cycle ---

    def semantic_anywhere(self) -> bool:
        sem = self.settings.semantic
        return sem.assistant or sem.openai or any(sem.models.values())

    def _load_embedder(self) -> None:
        from alice.nlu.embed import get_embedder

        if self._embedder is None:
            self._embedder = get_embedder(self.settings.semantic.embedder)
            self.index = VectorIndex(self._embedder.dim, self.settings.index_bytes)

    async def _load_verifier(self) -> None:
        from alice.nlu.embed import get_embedder

        name = self.settings.semantic.verifier
        assert name is not None
        try:
            self._verifier = await asyncio.to_thread(get_embedder, name)
        except Exception:
            log.exception("cache: the verifier %r did not load; the verify bands stay misses", name)

    async def start(self, *, verifier_in_background: bool = False) -> None:
        """Load the embedders and the durable store's entries. With `verifier_in_background`
        (the gateway) the verifier (e5: a second or two) loads while requests are answered, and
        candidates in the verify bands are misses until it is in."""
        if self.settings.enabled and self.semantic_anywhere():
            await asyncio.to_thread(self._load_embedder)
            if self._verifier is None and self.settings.semantic.verifier:
                self._verifier_load = asyncio.ensure_future(self._load_verifier())
                if not verifier_in_background:
                    await self._verifier_load
        if self.durable is None:
            return
        await self.durable.start()
        n = 0
        async for rec in self.durable.scan():
            self._adopt(rec)
            n += 1
        self.durable.follow(self._on_event)
        log.info("cache: %d entries from the %s store", n, self.durable.name)

    async def flush(self) -> None:
        """Wait for the durable-store writes started so far."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)

    async def settle(self) -> None:
        """Wait for the durable writes and the verifier vectors still being computed."""
        while self._verify_tasks:
            await asyncio.gather(*list(self._verify_tasks), return_exceptions=True)
        await self.flush()

    async def close(self) -> None:
        if self._verifier_load is not None:
            await self._verifier_load  # a thread cannot be cancelled; the load ends within seconds
        for task in list(self._verify_tasks):
            task.cancel()
        await asyncio.gather(*list(self._verify_tasks), return_exceptions=True)
        await self.flush()
        if self.durable is not None:
            await self.durable.close()

    def _spawn(self, coro: Any) -> None:
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    # --- records in and out of the in-process structures ---

    def _adopt(self, rec: CacheRecord) -> None:
        """Take a record from the durable store (start-up, another replica) into memory."""
        if not rec.live(time.time()):
            return
        if self.durable is not None:
            self._known[(rec.namespace, rec.key)] = rec.expires
        self.hot.put_now(rec)
        self._index_record(rec)

    def _index_record(self, rec: CacheRecord) -> None:
        vec = rec.vec()
        if rec.kind != "answer" or rec.query is None or vec is None or self.index is None:
            return
        if self._embedder is None or rec.embedder != self._embedder.name or vec.shape[0] != self.index.dim:
            return
        facts = extract(rec.query, rec.intent, rec.slots)
        self.index.add(rec.partition, rec.key, vec, facts, rec.verify_vec())

    def _evicted(self, rec: CacheRecord) -> None:
        # Without a durable store, an answer evicted from memory is gone: its index row too.
        if self.durable is None and self.index is not None:
            self.index.remove(rec.key)

    def _forget(self, namespace: str, key: str) -> None:
        self.hot.drop(namespace, key)
        self._known.pop((namespace, key), None)
        if self.index is not None:
            self.index.remove(key)

    def _on_event(self, event: CacheEvent) -> None:
        self.counters.followed_events += 1
        if event.op == "put" and event.record is not None:
            self._adopt(event.record)
        elif event.op == "delete" and event.key is not None and event.namespace is not None:
            self._forget(event.namespace, event.key)
        elif event.op == "purge":
            self._purge_local(event.namespace)

    async def _fetch(self, namespace: str, key: str) -> CacheRecord | None:
        rec = self.hot.get_now(namespace, key)
        if rec is not None:
            return rec
        expires = self._known.get((namespace, key))
        if expires is None or self.durable is None:
            return None
        if expires <= time.time():
            self._forget(namespace, key)
            return None
        await self.flush()  # a write still on its way must not read as a miss
        rec = await self.durable.get(namespace, key)
        if rec is None or not rec.live(time.time()):
            self._forget(namespace, key)
            return None
        self.hot.put_now(rec)
        return rec

    def _store(self, rec: CacheRecord) -> None:
        self.hot.put_now(rec)
        self._index_record(rec)
        if self.durable is not None:
            self._known[(rec.namespace, rec.key)] = rec.expires
            self._spawn(self.durable.put(rec))

    # --- the stage ---

    def namespace(self, tenant: str) -> str:
        return self.settings.namespaces.get(tenant, tenant)

    def _body(self, turn: Turn) -> dict[str, Any]:
        if turn.body.get("messages"):
            return turn.body
        return {"messages": [{"role": "user", "content": turn.text or ""}]}

    async def lookup(self, turn: Turn) -> None:
        if not self.settings.enabled:
            return
        started = time.perf_counter()
        cc = _cache_control(turn.headers)
        key = build_key(self._body(turn), self.namespace(turn.tenant), turn.route or turn.model,
                        self.settings.policy(turn.surface))
        cap = intent_cap_s(turn.intent, self.intent_caps)
        if cap is None and turn.surface == "assistant" and self.settings.volatile_text and key.query:
            cap = text_cap_s(key.query, self.intent_caps)
        sem = self.settings.semantic
        semantic = (key.query is not None and sem.enabled_for(turn.surface, turn.model)
                    and (sem.multi_turn or not key.multi_turn) and (sem.with_tools or not key.tools))
        state = CacheLookup(key, store="no-store" not in cc, semantic=semantic, cap_s=cap)
        turn.meta["cache"] = state
        turn.cache = "miss"
        self.counters.lookups += 1
        if "no-store" in cc or "no-cache" in cc or cap == 0:
            self.counters.bypassed += 1
            return
        rec = await self._fetch(key.namespace, key.exact)
        t_exact = time.perf_counter()
        if rec is not None:
            self._hit(rec)
            if rec.kind == "negative":
                self.counters.negative.hits += 1
                self.counters.negative.lookup_ms += (t_exact - started) * 1000
                turn.cache = "negative"
                raise CachedFailure(rec.status, rec.payload, turn.route)
            self.counters.exact.hits += 1
            self.counters.exact.lookup_ms += (t_exact - started) * 1000
            self._serve(turn, rec, "exact", 1.0)
            return
        self.counters.exact.misses += 1
        self.counters.exact.lookup_ms += (t_exact - started) * 1000
        if not semantic:
            return
        rec, similarity = await self._semantic(turn, state)
        self.counters.semantic.lookup_ms += (time.perf_counter() - t_exact) * 1000
        if rec is None:
            self.counters.semantic.misses += 1
            return
        self.counters.semantic.hits += 1
        self._hit(rec)
        self._serve(turn, rec, "semantic", similarity)

    def _serve(self, turn: Turn, rec: CacheRecord, tier: str, similarity: float) -> None:
        answer = orjson.loads(rec.payload)
        answer["id"] = f"chatcmpl-{turn.request_id}"
        turn.answer = answer
        turn.cache = tier
        turn.similarity = round(similarity, 4)
        turn.backend = "cache"

    def _hit(self, rec: CacheRecord) -> None:
        rec.hits += 1
        rec.level_hits += 1
        if self.index is not None:
            self.index.touch(rec.key)
        if rec.kind == "answer" and self.ladder.promote(rec.level, rec.level_hits):  # failures stay brief
            rec.level += 1
            rec.level_hits = 0
            rec.expires = max(rec.expires, time.time() + self.ladder.ttl(rec.level, rec.cap_s))
            self.counters.promotions += 1
            if self.durable is not None:
                self._known[(rec.namespace, rec.key)] = rec.expires
                self._spawn(self.durable.put(rec))

    async def _embed(self, embedder: Embedder, text: str) -> np.ndarray:
        t = time.perf_counter()
        if embedder.name in _INLINE_EMBEDDERS:
            vec = embedder.embed([text])[0]
        else:
            vec = (await asyncio.to_thread(embedder.embed, [text]))[0]
        self.counters.embeds += 1
        self.counters.embed_ms += (time.perf_counter() - t) * 1000
        return vec

    def _shared_embedding(self, turn: Turn, embedder: Embedder) -> np.ndarray | None:
        """The request's embedding, if an earlier stage (NLU) computed it with this embedder."""
        emb = turn.embedding
        if emb is None:
            return None
        name = turn.meta.get("embedder")
        vec = np.asarray(emb, dtype=np.float32).reshape(-1)
        if (name is None or name == embedder.name) and vec.shape[0] == embedder.dim:
            self.counters.embeds_reused += 1
            return vec
        return None

    async def _semantic(self, turn: Turn, state: CacheLookup) -> tuple[CacheRecord | None, float]:
        self._load_embedder()
        assert self._embedder is not None and self.index is not None and state.key.query is not None
        query = state.key.query
        vec = self._shared_embedding(turn, self._embedder)
        if vec is None:
            vec = await self._embed(self._embedder, query)
            if turn.embedding is None:
                turn.embedding = vec
                turn.meta["embedder"] = self._embedder.name
        state.vector = vec
        if self._verifier is not None:
            state.verify_vector = self._shared_embedding(turn, self._verifier)
        candidates = self.index.search(state.key.partition, vec, self.settings.semantic.top_k,
                                       self.bands.lowest_useful())
        if not candidates:
            self.counters.bands["distant"] += 1
            return None, 0.0
        self.counters.bands[BAND_NAMES[self.bands.band(candidates[0].similarity)]] += 1
        facts: Facts | None = None
        for cand in candidates:
            action = self.bands.action(cand.similarity)
            if action == "miss":
                continue
            facts = facts or extract(query, turn.intent, turn.slots)
            reason = check(facts, cand.facts)
            if reason is not None:
                self.counters.gate_rejections[reason] += 1
                continue
            if action == "verify" and not self._lexical_ok(cand.similarity, facts, cand.facts) \
                    and not await self._verify(state, cand.verify_vector):
                continue
            rec = await self._fetch(state.key.namespace, cand.key)
            if rec is None:  # expired or evicted: the row has nothing left to serve
                self.index.remove(cand.key)
                continue
            self._alias(state.key, rec)
            return rec, cand.similarity
        return None, candidates[0].similarity

    def _lexical_ok(self, similarity: float, q: Facts, c: Facts) -> bool:
        sem = self.settings.semantic
        if similarity >= sem.lexical_floor and overlap(q, c) >= sem.lexical_min:
            self.counters.lexical_verified += 1
            return True
        return False

    def _alias(self, key: RequestKey, rec: CacheRecord) -> None:
        """Remember the paraphrase under its own exact key, so asking it again is an L1 hit. The
        alias is not indexed: paraphrases of paraphrases must not drift from the original."""
        self._store(CacheRecord(key=key.exact, namespace=key.namespace, partition=key.partition, kind="answer",
                                payload=rec.payload, intent=rec.intent, slots=rec.slots, level=rec.level,
                                cap_s=rec.cap_s, expires=rec.expires))

    async def _verify(self, state: CacheLookup, candidate: np.ndarray | None) -> bool:
        """The second stage for the verify bands: the stronger embedder must agree too."""
        if self._verifier is None or candidate is None or state.key.query is None:
            self.counters.verify_rejections += 1
            return False
        if state.verify_vector is None:
            state.verify_vector = await self._embed(self._verifier, state.key.query)
        self.counters.verified += 1
        ok = float(state.verify_vector @ candidate) >= self.settings.semantic.verifier_min
        if not ok:
            self.counters.verify_rejections += 1
        return ok

    # --- the write-back ---

    async def write_back(self, turn: Turn) -> None:
        state: CacheLookup | None = turn.meta.get("cache")
        if state is None or not self.settings.enabled or turn.cache != "miss":
            return
        if not state.store:
            self.counters.not_stored["no-store"] += 1
            return
        reason = self.screen(turn) if self.screen is not None else None
        if reason is not None:
            self.counters.not_stored[reason] += 1
            return
        if turn.status == 200 and turn.answer is not None:
            await self._store_answer(turn, state)
            return
        failure = deterministic_failure(turn)
        if failure is None:
            return
        kind, exc = failure
        ttl = self.settings.negative_ttl_s.get(kind, 0)
        if ttl <= 0:
            return
        now = time.time()
        self._store(CacheRecord(key=state.key.exact, namespace=state.key.namespace, partition=state.key.partition,
                                kind="negative", payload=exc.render(), status=exc.status, created=now,
                                expires=now + ttl))
        self.counters.negative_stores += 1

    def _uncacheable(self, turn: Turn, state: CacheLookup) -> str | None:
        if not turn.complete:
            return "incomplete"
        if state.cap_s == 0:
            return "volatile intent"
        choice = ((turn.answer or {}).get("choices") or [{}])[0]
        if choice.get("finish_reason") == "content_filter":
            return "content filter"
        if (choice.get("message") or {}).get("tool_calls") and not self.settings.cache_tool_calls:
            return "tool call"
        return None

    async def _store_answer(self, turn: Turn, state: CacheLookup) -> None:
        reason = self._uncacheable(turn, state)
        if reason is not None:
            self.counters.not_stored[reason] += 1
            return
        assert turn.answer is not None
        vector = verify = None
        if state.semantic and state.vector is not None and self._embedder is not None:
            vector = np.asarray(state.vector, dtype=np.float32).tobytes()
            if state.verify_vector is not None:
                verify = np.asarray(state.verify_vector, dtype=np.float32).tobytes()
        now = time.time()
        key = state.key
        rec = CacheRecord(
            key=key.exact, namespace=key.namespace, partition=key.partition, kind="answer",
            payload=_tight(orjson.dumps(turn.answer)), query=key.query if vector else None, vector=vector,
            verify_vector=verify, embedder=self._embedder.name if vector and self._embedder else None,
            intent=turn.intent, slots=dict(turn.slots), cap_s=state.cap_s, created=now,
            expires=now + self.ladder.ttl(0, state.cap_s),
        )
        self._store(rec)
        if vector and verify is None and self._verifier is not None:
            # The entry serves exact and serve-band hits at once; the verifier's vector follows.
            if self._verify_backlog < _VERIFY_BACKLOG:
                self._verify_backlog += 1
                task = asyncio.ensure_future(self._attach_verify(rec))
                self._verify_tasks.add(task)
                task.add_done_callback(self._verify_tasks.discard)
            else:
                self.counters.not_stored["verify vector (backlog)"] += 1
        self.counters.stores += 1

    async def _attach_verify(self, rec: CacheRecord) -> None:
        try:
            assert self._verifier is not None and rec.query is not None
            vec = await self._embed(self._verifier, rec.query)
            rec.verify_vector = np.asarray(vec, dtype=np.float32).tobytes()
            if self.hot.get_now(rec.namespace, rec.key) is rec:  # still cached, not purged meanwhile
                self.hot.put_now(rec)  # count the grown record against the byte budget
                self._index_record(rec)
                if self.durable is not None:
                    await self.durable.put(rec)
        finally:
            self._verify_backlog -= 1

    # --- operations ---

    def _purge_local(self, namespace: str | None) -> int:
        gone = self.hot.drop_namespace(namespace)
        for ns_key in [k for k in self._known if namespace is None or k[0] == namespace]:
            del self._known[ns_key]
        if self.index is not None:
            if namespace is None:
                self.index.clear()
            else:
                for rec in gone:
                    self.index.remove(rec.key)
        return len(gone)

    async def purge(self, namespace: str | None = None) -> int:
        """Drop one namespace's entries (a tenant's, unless shared) or everything; returns how many."""
        await self.flush()  # no write started before the purge may land after it
        if namespace is not None and self.index is not None:
            # Rows whose records were evicted from memory are found through the durable keys.
            for _ns, key in [k for k in self._known if k[0] == namespace]:
                self.index.remove(key)
        n = self._purge_local(namespace)
        if self.durable is not None:
            n = max(n, await self.durable.purge(namespace))
        return n

    async def prime(self, *, tenant: str, model: str, messages: list[dict[str, Any]],
                    completion: dict[str, Any], surface: str = "openai", intent: str | None = None,
                    params: dict[str, Any] | None = None) -> bool:
        """Put an answer in as if a request had just missed (the hook for a predictive warmer)."""
        from alice.pipeline import Turn

        turn = Turn(request_id="prime", surface=surface, received=time.perf_counter(),
                    body={"model": model, "messages": messages, **(params or {})}, tenant=tenant, model=model,
                    route=model, intent=intent)
        await self.lookup(turn)
        if turn.cache != "miss":
            return False
        turn.answer, turn.complete, turn.status = completion, True, 200
        await self.write_back(turn)
        return True

    def stats(self) -> dict[str, Any]:
        out = self.counters.as_dict()
        out["enabled"] = self.settings.enabled
        out["memory"] = {**self.hot.stats(), "bytes_by_kind": dict(self.hot.bytes_by_kind)}
        out["evictions"] = self.hot.evictions + (self.index.evictions if self.index else 0)
        out["index"] = ({"entries": len(self.index), "bytes": self.index.bytes, "max_bytes": self.index.max_bytes,
                         "evictions": self.index.evictions, "dim": self.index.dim}
                        if self.index is not None else None)
        out["durable"] = ({**self.durable.stats(), "known_keys": len(self._known)}
                          if self.durable is not None else None)
        out["embedder"] = self.settings.semantic.embedder
        out["verifier"] = self.settings.semantic.verifier
        out["verifier_ready"] = self._verifier is not None  # false while it loads: verify bands miss
        out["bands"] = self.bands.describe()
        out["ttl_hours"] = [round(t / 3600, 3) for t in self.ladder.ttl_s]
        return out
