#!/usr/bin/env bash
# nbdev-proc-nbs (the docs smoke test, and the input of the docs check). It needs no Quarto, but offers to install it
# (with sudo) when `quarto` is not on PATH; where Quarto is missing, a stand-in that only says so prevents that.
# Real docs builds use `nbdev-docs` where Quarto is installed.
set -euo pipefail
cd "$(dirname "$0")/.."
if command -v quarto >/dev/null; then exec .venv/bin/nbdev-proc-nbs; fi
stub=$(mktemp -d); trap 'rm -rf "$stub"' EXIT
printf '#!/bin/sh\necho "quarto is not installed" >&2; exit 1\n' > "$stub/quarto"; chmod +x "$stub/quarto"
PATH="$stub:$PATH" .venv/bin/nbdev-proc-nbs
