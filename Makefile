# `make run` and `make test` do all the set-up a fresh machine needs.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
PYTEST_ARGS ?=

.PHONY: run test bench bench-peer lint install system-deps clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip

# Re-install only when the project's requirements change. llama.cpp is built for any x86-64
# with AVX2, not for this CPU alone (see scripts/ensure_llama.sh for why).
$(STAMP): pyproject.toml | $(BIN)/python
	CMAKE_ARGS="-DGGML_NATIVE=OFF" $(BIN)/pip install -e '.[local,test]'
	bash scripts/ensure_llama.sh $(BIN)
	touch $(STAMP)

system-deps:
	@command -v redis-server >/dev/null || (apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q redis-server)
	@command -v chromedriver >/dev/null || (apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium chromium-driver)

install: system-deps $(STAMP)

run: install
	$(BIN)/alice serve

test: install
	$(BIN)/ruff check alice tests
	bash scripts/pytest.sh $(PYTEST_ARGS)

bench: install
	@command -v wrk >/dev/null || (apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q wrk)
	$(BIN)/alice bench overhead

lint: install
	$(BIN)/ruff check alice tests

clean:
	rm -rf $(VENV) build *.egg-info

# LiteLLM in its own venv, only for `alice bench overhead --peer litellm`.
bench-peer: install
	test -x .bench/litellm/bin/litellm || (python3.11 -m venv .bench/litellm && .bench/litellm/bin/pip install -q 'litellm[proxy]')
