# The two commands of the README are `make run` and `make test`; everything else is a helper.
# Each target installs what it needs (Python venv, Debian packages, Elasticsearch zip) when missing.
SHELL := /bin/bash
VENV ?= .venv
PY := $(VENV)/bin/python
CLI := $(VENV)/bin/finemeca
PYTEST_ARGS ?=

.PHONY: run test install stack-up stack-down lint bench failover clean image lock

$(VENV)/.installed: pyproject.toml tools/pyproject.toml
	python3 -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]' -e ./tools
	touch $@

install: $(VENV)/.installed

## Command 1: the whole pipeline with simulated sensors, on this machine, no Docker.
run: install
	$(CLI) demo

## Command 2: static checks, then the test suite against the real local stack (started here if not running).
test: install lint
	$(CLI) stack up
	$(VENV)/bin/pytest $(PYTEST_ARGS)

stack-up: install
	$(CLI) stack up

stack-down: install
	$(CLI) stack down

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy finemeca sensors gateway ingestor alerts kibana statuspage report tools
	$(VENV)/bin/lint-imports --no-cache   # the layer contract of pyproject.toml [tool.importlinter]
	.ci/actionlint                        # the release workflow (.github/workflows/)

## The production image without a Docker engine (buildah + a debootstrapped Debian base cached in
## .cache/image), then every role run in it; the gateway's /healthz needs the local stack.
image: install
	$(CLI) stack up
	deploy/image/make-image.sh

## Re-lock the image's dependencies (hashes for every platform) after changing pyproject.toml.
lock:
	python3 -m venv .cache/piptools && .cache/piptools/bin/pip install --quiet pip-tools
	.cache/piptools/bin/pip-compile --quiet --generate-hashes --strip-extras --no-emit-index-url \
	  --no-emit-find-links --output-file deploy/image/requirements.lock pyproject.toml

## The three failure tests on real servers (also part of `make test`): a gateway replica gone, an
## Elasticsearch node killed (starts a 3-node cluster), the ActiveMQ primary killed (starts a pair).
failover: install
	$(CLI) stack up
	$(VENV)/bin/pytest -m failover -s $(PYTEST_ARGS)

bench: install
	$(CLI) stack up
	$(CLI) bench all

clean:
	rm -rf $(VENV) var
