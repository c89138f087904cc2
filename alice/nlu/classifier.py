"""Intent classification on the shared request embedding.

Model: multinomial logistic regression over [sentence embedding ‖ hashed word/char n-grams],
trained on the registry's examples. Confidence is the softmax probability at a temperature fitted
on out-of-fold predictions (k-fold over the examples), so 0.8 means "right about 80 % of the
time" on data like the examples. Out-of-scope: the `none` intent (trained on its examples), a
top confidence below `oos_threshold`, or a text less similar to its predicted intent's nearest
example than the model's similarity floor. The floor is fitted on the same out-of-fold
predictions: the one that most improves in-scope accuracy + `none` recall there, searched up to
the floor that catches `oos_recall_target` of the held-out `none` examples (and rejects at most
`oos_max_in_scope_loss` of the in-scope ones), so it adapts to each registry, 10 examples per
intent or 40, and is not used where it would lose about as much as it gains. Narrow
keyword rules (alice.nlu.rules) override the model where a confusion is unacceptable (a time
question must never reach the weather tool). An optional tie-break hook (an async callable, e.g.
a micro-tier LLM) decides among the top candidates when the confidence is low; off by default.

Cascade: with a `fast` embedder (the 64-d static model, well under a millisecond) a second model
of the same kind answers first, and its answer is kept only at a confidence where its out-of-fold
answers were right at least `cascade_precision` of the time; otherwise the main (e5) embedding is
computed and the main model decides.

Nothing is computed at import time. The example embeddings and the trained weights are built
lazily on first use and cached in one file under the state dir, keyed by a hash of the
registry, the embedder and the model settings, so later start-ups only load the file.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import os
import threading
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from alice.nlu._lexical import LexicalFeaturizer, SparseRows
from alice.nlu._softmax import LinearModel, fit_temperature, precise_from, softmax, train_softmax
from alice.nlu.embed import Embedder, get_embedder
from alice.nlu.registry import OUT_OF_SCOPE, IntentRegistry
from alice.nlu.rules import apply_rules

__all__ = ["ClassifierSettings", "IntentClassifier", "IntentResult", "TieBreak"]

log = logging.getLogger("alice.nlu")

# Bump when the feature layout or training changes, so stale cache files are not reused.
_MODEL_VERSION = "lr-v3"

# (text, [(intent, confidence), ...]) -> chosen intent id, or None to keep the model's choice.
TieBreak = Callable[[str, list[tuple[str, float]]], Awaitable[str | None]]


@dataclass(frozen=True, slots=True)
class ClassifierSettings:
    lexical_dim: int = 4096
    lexical_weight: float = 1.0  # scale of the n-gram block next to the (unit) embedding
    epochs: int = 120
    learning_rate: float = 4.0
    l2: float = 1e-4
    folds: int = 3  # for the temperature fit; 0 or 1 = no calibration (temperature 1)
    oos_threshold: float = 0.35  # below this top confidence the turn is out of scope
    oos_recall_target: float = 0.85  # held-out `none` recall the similarity floor is fitted for
    oos_max_in_scope_loss: float = 0.05  # share of held-out in-scope examples the floor may reject
    oos_floor_min_gain: float = 0.05  # a floor must raise held-out in-scope accuracy + `none` recall this much
    cascade_precision: float = 0.98  # out-of-fold precision the fast stage's kept answers need
    tie_break_below: float = 0.5  # the tie-break hook (if any) runs below this confidence

    def key(self) -> str:
        return (f"{_MODEL_VERSION}:{self.lexical_dim}:{self.lexical_weight}:{self.epochs}:"
                f"{self.learning_rate}:{self.l2}:{self.folds}:{self.oos_threshold}:{self.oos_recall_target}:"
                f"{self.oos_max_in_scope_loss}:{self.oos_floor_min_gain}:{self.cascade_precision}")


@dataclass(frozen=True, slots=True)
class IntentResult:
    intent: str
    confidence: float
    candidates: tuple[tuple[str, float], ...]  # the top three (intent, confidence) of the model
    reasons: tuple[str, ...]
    out_of_scope: bool

    def as_dict(self) -> dict[str, object]:
        return {"intent": self.intent, "confidence": round(self.confidence, 4),
                "candidates": [[i, round(c, 4)] for i, c in self.candidates], "reasons": list(self.reasons),
                "out_of_scope": self.out_of_scope}


@dataclass(slots=True)
class _Model:
    ids: list[str]
    linear: LinearModel
    temperature: float
    featurizer: LexicalFeaturizer
    examples: np.ndarray  # (n, dim) the examples' embeddings, for the similarity floor
    labels: np.ndarray  # (n,) their intent indices
    sim_floor: float  # 0: no floor (nothing to fit it on)
    accept: float  # as the fast stage, this model's answer is kept at or above this confidence (>1: never)


class IntentClassifier:
    def __init__(
        self,
        registry: IntentRegistry,
        embedder: Embedder | str = "e5",
        *,
        state_dir: Path | str | None = None,
        settings: ClassifierSettings | None = None,
        tie_break: TieBreak | None = None,
        fast: Embedder | str | None = None,
    ) -> None:
        self.registry = registry
        self._embedder_arg = embedder
        self._embedder: Embedder | None = None if isinstance(embedder, str) else embedder
        self.state_dir = Path(state_dir) if state_dir is not None else None
        self.settings = settings or ClassifierSettings()
        self.tie_break = tie_break
        self._model: _Model | None = None
        self._lock = threading.Lock()
        self._known = frozenset(registry.ids)
        self._none = registry.ids.index(OUT_OF_SCOPE) if OUT_OF_SCOPE in self._known else -1
        # The cascade's first stage: a model of the same kind on the cheap embedding.
        self.fast: IntentClassifier | None = None
        if fast is not None and _name(fast) != _name(embedder):
            self.fast = IntentClassifier(registry, fast, state_dir=state_dir, settings=self.settings)

    # --- lazy preparation -------------------------------------------------------------
    @property
    def embedder(self) -> Embedder:
        if self._embedder is None:
            self._embedder = get_embedder(str(self._embedder_arg))
        return self._embedder

    @property
    def ready(self) -> bool:
        return self._model is not None and (self.fast is None or self.fast.ready)

    def cache_path(self) -> Path | None:
        if self.state_dir is None:
            return None
        raw = f"{self.registry.fingerprint()}|{self.embedder.name}|{self.settings.key()}"
        digest = hashlib.sha256(raw.encode()).hexdigest()[:20]
        return self.state_dir / "nlu" / f"intents-{self.embedder.name}-{digest}.npz"

    def cache_paths(self) -> list[Path]:
        """The model files this classifier needs (the fast stage's too)."""
        paths = [self.cache_path(), self.fast.cache_path() if self.fast is not None else None]
        return [p for p in paths if p is not None]

    @property
    def similarity_floor(self) -> float:
        """The fitted out-of-scope similarity floor (0: none)."""
        return self._ready_model().sim_floor

    @property
    def accept_from(self) -> float:
        """As a cascade's fast stage, the confidence from which this model's answers are kept."""
        return self._ready_model().accept

    def prepare(self) -> None:
        """Build (or load) the model(s) once; safe to call from several threads."""
        if self.fast is not None:
            self.fast.prepare()
        if self._model is not None:
            return
        with self._lock:
            if self._model is None:
                self._model = self._load_or_build()

    async def aprepare(self) -> None:
        await asyncio.to_thread(self.prepare)

    def _load_or_build(self) -> _Model:
        path = self.cache_path()
        if path is not None and path.exists():
            try:
                return self._load(path)
            except Exception:  # a torn or foreign file: rebuild rather than fail start-up
                log.warning("intent cache %s unreadable; rebuilding", path, exc_info=True)
        started = time.perf_counter()
        texts, labels = self._examples()
        emb = self._embed_batch(texts)
        model = self._train(texts, labels, emb)
        log.info("intent model built (%s): %d examples, %d intents, %.1f s, similarity floor %.3f, cascade "
                 "accepts from %.3f", self.embedder.name, len(texts), len(model.ids), time.perf_counter() - started,
                 model.sim_floor, model.accept)
        if path is not None:
            self._save(path, model)
        return model

    def _examples(self) -> tuple[list[str], np.ndarray]:
        ids = self.registry.ids
        texts: list[str] = []
        labels: list[int] = []
        for n, intent in enumerate(self.registry):
            for _lang, text in intent.all_examples():
                texts.append(text)
                labels.append(n)
        if len(ids) < 2:
            raise ValueError("the intent registry needs at least two intents")
        return texts, np.asarray(labels, dtype=np.int64)

    def _embed_batch(self, texts: Sequence[str], batch: int = 64) -> np.ndarray:
        parts = [self.embedder.embed(texts[i : i + batch]) for i in range(0, len(texts), batch)]
        return np.vstack(parts).astype(np.float32)

    def _lex(self, featurizer: LexicalFeaturizer, texts: Sequence[str]) -> SparseRows:
        return featurizer.transform(texts).scaled(self.settings.lexical_weight)

    def _fit(self, x: np.ndarray, s: SparseRows, y: np.ndarray, n: int) -> LinearModel:
        st = self.settings
        return train_softmax(x, s, y, n, epochs=st.epochs, lr=st.learning_rate, l2=st.l2)

    def _train(self, texts: list[str], labels: np.ndarray, emb: np.ndarray) -> _Model:
        n_classes = len(self.registry)
        temperature, sim_floor, accept = 1.0, 0.0, 1.01
        if self.settings.folds > 1:
            logits, sims = self._out_of_fold(texts, labels, emb, n_classes)
            temperature = fit_temperature(logits, labels)
            probs = softmax(logits, temperature)
            pred = probs.argmax(axis=1)
            conf = probs.max(axis=1)
            sim_pred = sims[np.arange(len(pred)), pred]
            sim_floor = self._fit_sim_floor(labels, pred, conf, sim_pred)
            kept = (pred != self._none) & (conf >= self.settings.oos_threshold) & (sim_pred >= sim_floor)
            accept = precise_from(conf[kept], (pred == labels)[kept], self.settings.cascade_precision)
        featurizer = LexicalFeaturizer(self.settings.lexical_dim).fit(texts)
        linear = self._fit(emb, self._lex(featurizer, texts), labels, n_classes)
        return _Model(self.registry.ids, linear, temperature, featurizer, emb, labels, sim_floor, accept)

    def _out_of_fold(self, texts: list[str], labels: np.ndarray, emb: np.ndarray,
                     n_classes: int) -> tuple[np.ndarray, np.ndarray]:
        """Out-of-fold logits, and each example's similarity to the nearest training-fold example of
        every intent (stratified folds, deterministic)."""
        k = self.settings.folds
        fold = np.empty(len(texts), dtype=np.int64)
        for c in range(n_classes):
            members = np.flatnonzero(labels == c)
            fold[members] = np.arange(len(members)) % k
        logits = np.zeros((len(texts), n_classes), dtype=np.float32)
        sims = np.full((len(texts), n_classes), -1.0, dtype=np.float32)
        for f in range(k):
            train, test = fold != f, fold == f
            if not test.any():
                continue
            feat = LexicalFeaturizer(self.settings.lexical_dim).fit([t for t, m in zip(texts, train, strict=True) if m])
            lex = self._lex(feat, texts)
            linear = self._fit(emb[train], lex.take(train), labels[train], n_classes)
            logits[test] = linear.logits(emb[test], lex.take(test))
            sims[test] = _nearest_per_intent(emb[test] @ emb[train].T, labels[train], n_classes)
        return logits, sims

    def _fit_sim_floor(self, labels: np.ndarray, pred: np.ndarray, conf: np.ndarray, sim_pred: np.ndarray) -> float:
        """The similarity floor, from out-of-fold predictions: among the floors up to the one that
        brings held-out `none` recall to the target (and rejects at most the allowed share of
        held-out in-scope examples), the lowest that maximises in-scope accuracy + `none` recall;
        0 (no floor) unless that sum rises by at least `oos_floor_min_gain`: on a registry whose
        `none` class already catches most out-of-scope text a floor trades about one right answer
        for one caught, and the few `none` examples cannot tell such a trade from noise."""
        st = self.settings
        oos = labels == self._none
        if self._none < 0 or not oos.any():
            return 0.0
        caught = (pred == self._none) | (conf < st.oos_threshold)
        need = int(np.ceil(st.oos_recall_target * oos.sum())) - int((caught & oos).sum())
        if need <= 0:
            return 0.0
        in_scope = ~oos & ~caught
        cap = float(np.quantile(sim_pred[in_scope], st.oos_max_in_scope_loss)) if in_scope.any() else 1.0
        candidates = np.sort(sim_pred[oos & ~caught])[:need] + 1e-6
        best, best_score = 0.0, st.oos_floor_min_gain - 1e-9  # a floor must reach the minimum gain
        missed, right = sim_pred[oos & ~caught], sim_pred[in_scope & (pred == labels)]
        for floor in candidates[candidates <= cap]:
            # the rise of `none` recall minus the fall of in-scope accuracy
            score = float((missed < floor).sum() / oos.sum() - (right < floor).sum() / max(1, (~oos).sum()))
            if score > best_score:
                best, best_score = float(floor), score
        return best

    def _save(self, path: Path, m: _Model) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(f".{os.getpid()}.tmp")
        with tmp.open("wb") as fh:
            np.savez(fh, ids=np.array(m.ids), dense=m.linear.dense, sparse=m.linear.sparse, bias=m.linear.bias,
                     temperature=np.float32(m.temperature), idf=m.featurizer.idf, examples=m.examples,
                     labels=m.labels, sim_floor=np.float32(m.sim_floor), accept=np.float32(m.accept))
        os.replace(tmp, path)  # atomic: a concurrent reader sees the old file or the new one

    def _load(self, path: Path) -> _Model:
        with np.load(path, allow_pickle=False) as z:
            ids = [str(i) for i in z["ids"]]
            if ids != self.registry.ids:
                raise ValueError("intent ids differ from the registry")
            featurizer = LexicalFeaturizer(self.settings.lexical_dim)
            featurizer.idf = z["idf"].astype(np.float32)
            linear = LinearModel(z["dense"], z["sparse"], z["bias"])
            return _Model(ids, linear, float(z["temperature"]), featurizer, z["examples"], z["labels"],
                          float(z["sim_floor"]), float(z["accept"]))

    # --- classification ---------------------------------------------------------------
    def embed(self, text: str) -> np.ndarray:
        """The (dim,) embedding of one text (the request embedding other stages share)."""
        return self.embedder.embed([text])[0]

    def _ready_model(self) -> _Model:
        self.prepare()
        assert self._model is not None
        return self._model

    def scores(self, text: str, embedding: np.ndarray) -> np.ndarray:
        """Calibrated probabilities over `registry.ids`."""
        m = self._ready_model()
        x = np.asarray(embedding, dtype=np.float32).reshape(1, -1)
        return softmax(m.linear.logits(x, self._lex(m.featurizer, [text])), m.temperature)[0]

    def similarity(self, embedding: np.ndarray, intent: str) -> float:
        """Cosine similarity of the text to the nearest example of `intent`."""
        m = self._ready_model()
        rows = m.examples[m.labels == self.registry.ids.index(intent)]
        return float((rows @ np.asarray(embedding, dtype=np.float32)).max()) if len(rows) else -1.0

    def classify(self, text: str, embedding: np.ndarray | None = None) -> IntentResult:
        """Model → out-of-scope checks → rules on the main embedding (the shared request embedding
        if one is passed). Without one, the fast stage (if any) may answer first."""
        if embedding is None:
            quick = self.quick(text)
            if quick is not None:
                return quick
            embedding = self.embed(text)
        return self._decide(text, embedding, self.scores(text, embedding))

    def quick(self, text: str, fast_embedding: np.ndarray | None = None) -> IntentResult | None:
        """The fast stage's answer when it is confident enough to keep, else None (or no fast stage)."""
        if self.fast is None:
            return None
        fast = self.fast
        m = fast._ready_model()
        if m.accept > 1.0:
            return None
        if fast_embedding is None:
            fast_embedding = fast.embed(text)
        result = fast._decide(text, fast_embedding, fast.scores(text, fast_embedding))
        if result.out_of_scope or result.confidence < m.accept:
            return None
        return IntentResult(result.intent, result.confidence, result.candidates,
                            (f"cascade:{fast.embedder.name}:{m.accept:.2f}", *result.reasons), False)

    def _decide(self, text: str, embedding: np.ndarray, probs: np.ndarray) -> IntentResult:
        order = np.argsort(-probs)
        ids = self.registry.ids
        top3 = tuple((ids[i], float(probs[i])) for i in order[:3])
        intent, conf = top3[0]
        reasons = [f"model:{intent}:{conf:.2f}"]
        if intent != OUT_OF_SCOPE and OUT_OF_SCOPE in self._known:
            floor = self._ready_model().sim_floor
            if conf < self.settings.oos_threshold:
                reasons.append(f"below-oos-threshold:{self.settings.oos_threshold}")
                intent, conf = OUT_OF_SCOPE, 1.0 - conf
            elif floor > 0 and (sim := self.similarity(embedding, intent)) < floor:
                reasons.append(f"below-similarity-floor:{sim:.3f}<{floor:.3f}")
                intent, conf = OUT_OF_SCOPE, 1.0 - conf
        rule = apply_rules(text, intent, self._known)
        if rule is not None:
            reasons.append(f"rule:{rule.name}")
            intent = rule.intent
            conf = max(conf, float(probs[ids.index(intent)]), 0.9)
        return IntentResult(intent, conf, top3, tuple(reasons), intent == OUT_OF_SCOPE)

    async def aclassify(self, text: str, embedding: np.ndarray | None = None) -> IntentResult:
        """Like `classify`, off the event loop, plus the tie-break hook when confidence is low."""
        if not self.ready:
            await self.aprepare()
        result = self.quick(text) if embedding is None else None  # well under a millisecond: on the loop
        if result is not None:
            return result
        if embedding is None:
            embedding = await asyncio.to_thread(self.embed, text)
        result = self.classify(text, embedding)
        if self.tie_break is None or result.confidence >= self.settings.tie_break_below \
                or any(r.startswith("rule:") for r in result.reasons):
            return result
        try:
            chosen = await self.tie_break(text, list(result.candidates))
        except Exception:  # the hook is an optimisation; the model's answer stands
            log.warning("intent tie-break failed", exc_info=True)
            return result
        if chosen is None or chosen not in self._known or chosen == result.intent:
            return result
        conf = dict(result.candidates).get(chosen, result.confidence)
        return IntentResult(chosen, conf, result.candidates, (*result.reasons, f"tie-break:{chosen}"),
                            chosen == OUT_OF_SCOPE)


def _name(embedder: Embedder | str) -> str:
    return embedder if isinstance(embedder, str) else embedder.name


def _nearest_per_intent(sims: np.ndarray, labels: np.ndarray, n_classes: int) -> np.ndarray:
    """(rows, n_classes): each row's highest similarity among the examples of each intent."""
    out = np.full((sims.shape[0], n_classes), -1.0, dtype=np.float32)
    for c in range(n_classes):
        members = labels == c
        if members.any():
            out[:, c] = sims[:, members].max(axis=1)
    return out
