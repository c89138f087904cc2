#!/usr/bin/env bash
# Makes sure the installed llama-cpp-python really generates on this CPU.
#
# A native build (llama.cpp's default) uses every instruction the CPU advertises, but some
# hypervisors advertise AMX tiles without letting a process use them: that build dies with
# SIGILL on the first token. The Makefile builds portable (GGML_NATIVE=OFF); this catches a
# native wheel still sitting in pip's cache from an earlier build, removes it and rebuilds.
set -euo pipefail
BIN=${1:-.venv/bin}

smoke() {
  "$BIN/python" - <<'PY'
from llama_cpp import Llama

from alice.backends.managed import bundled_model_path

llm = Llama(model_path=str(bundled_model_path("smollm2-135m")), n_ctx=64, verbose=False)
llm("Hej", max_tokens=2)
PY
}

rc=0
smoke || rc=$?
if [ "$rc" -eq 0 ]; then
  exit 0
elif [ "$rc" -ne 132 ]; then  # 128 + SIGILL; any other failure is not the CPU's, so no rebuild
  echo "llama-cpp-python smoke test failed (exit $rc)" >&2
  exit "$rc"
fi
echo "llama-cpp-python does not run on this CPU: rebuilding it portable (GGML_NATIVE=OFF, ~6 min)" >&2
"$BIN/pip" cache remove 'llama_cpp_python*' || true
version=$("$BIN/python" -c "import importlib.metadata as m; print(m.version('llama-cpp-python'))")
CMAKE_ARGS="-DGGML_NATIVE=OFF" "$BIN/pip" install --force-reinstall --no-deps "llama-cpp-python==$version"
smoke
