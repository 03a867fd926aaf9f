#!/usr/bin/env bash
# Set up a fresh machine and run the whole test suite (the README's test command;
# .ci/run runs exactly this). Extra arguments go to pytest.
#   system: Debian's prometheus (+ promtool), prometheus-alertmanager,
#           prometheus-pushgateway, chromium, docker-compose (config check only)
#   python: its own venv .venv-test (not the quick start's .venv; NHT_TEST_VENV overrides)
#           with torch 2.14.1 + torchvision 0.29.1 (CPU use; ~6 GB) and nht-monitor[dev]
set -euo pipefail
cd "$(dirname "$0")/.."

missing=()
command -v prometheus >/dev/null 2>&1 || missing+=(prometheus)
command -v promtool >/dev/null 2>&1 || missing+=(prometheus)
command -v amtool >/dev/null 2>&1 || missing+=(prometheus-alertmanager)
command -v prometheus-pushgateway >/dev/null 2>&1 || missing+=(prometheus-pushgateway)
command -v chromium >/dev/null 2>&1 || missing+=(chromium)
command -v docker-compose >/dev/null 2>&1 || missing+=(docker-compose)  # validates deploy/compose (no daemon needed)
if [ ${#missing[@]} -gt 0 ]; then
  echo "== installing Debian packages: ${missing[*]}"
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -q
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends \
    $(printf '%s\n' "${missing[@]}" | sort -u)
fi

VENV="${NHT_TEST_VENV:-.venv-test}"
[ -x "$VENV/bin/python" ] || python3 -m venv "$VENV"
PIP="$VENV/bin/pip"
echo "== installing Python packages"
$PIP install -q --upgrade pip
# torchvision only exists here for torch 2.14.1 (see ../shared/dependency-notes.md)
$PIP install -q torch==2.14.1 torchvision==0.29.1
$PIP install -q -e '.[dev]'

echo "== running tests"
set +e
"$VENV/bin/python" -m pytest "$@"
status=$?
set -e
if [ "$status" -eq 5 ]; then
  echo "pytest collected no tests: failing on purpose" >&2
  exit 1
fi
exit "$status"
