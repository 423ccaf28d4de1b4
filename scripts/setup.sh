#!/usr/bin/env bash
# Make this checkout ready to run: system packages, a virtualenv in .venv, the project and
# its development tools. Safe to run again; it only does what is missing.
set -euo pipefail
cd "$(dirname "$0")/.."

VENV=${VENV:-.venv}
PYTHON=${PYTHON:-python3}

# Debian package names; libzbar0 is called libzbar0t64 from Debian 13 on.
need_pkgs=()
have_pkg() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q "install ok installed"; }
zbar=libzbar0
if ! have_pkg libzbar0 && ! have_pkg libzbar0t64; then
    if apt-cache show libzbar0t64 >/dev/null 2>&1; then zbar=libzbar0t64; fi
    need_pkgs+=("$zbar")
fi
for pkg in mosquitto mosquitto-clients socat tmux openssl systemd fonts-wqy-zenhei; do
    have_pkg "$pkg" || need_pkgs+=("$pkg")
done
if ! "$PYTHON" -c 'import venv, ensurepip' >/dev/null 2>&1; then
    need_pkgs+=(python3-venv)
fi

if [ ${#need_pkgs[@]} -gt 0 ]; then
    if command -v dpkg-query >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
        echo "setup: installing system packages: ${need_pkgs[*]}"
        export DEBIAN_FRONTEND=noninteractive
        apt-get update -qq
        apt-get install -y -qq --no-install-recommends "${need_pkgs[@]}"
        # The test suite starts its own brokers; a packaged broker left running is harmless.
    else
        echo "setup: missing system packages: ${need_pkgs[*]}" >&2
        echo "setup: run this as root, then run make again:" >&2
        echo "    sudo apt-get install -y ${need_pkgs[*]}" >&2
        exit 1
    fi
fi

if [ ! -x "$VENV/bin/python" ]; then
    echo "setup: creating $VENV"
    "$PYTHON" -m venv "$VENV"
fi
echo "setup: upgrading pip in $VENV"
"$VENV/bin/python" -m pip install --quiet --upgrade pip
# The big step (a few minutes the first time): pip names each package and shows each download.
echo "setup: installing floor and its tools into $VENV: Textual, SQLAlchemy, pydantic,"
echo "setup: paho-mqtt, OpenCV, zxing-cpp, pyzbar, Pillow, cryptography, pytest, mypy, ruff ..."
"$VENV/bin/python" -m pip install --progress-bar on -e '.[dev]'
touch "$VENV/.installed"
echo "setup: ready ($("$VENV/bin/python" --version), $VENV)"
