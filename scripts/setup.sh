#!/usr/bin/env bash
# Set up Agent Monitor on a clean Debian 12 machine: system packages, a virtual environment with the
# project and its test tools, and the default speech model. Safe to run again (idempotent).
#
#   scripts/setup.sh            everything (needs root or sudo for apt-get)
#   SKIP_APT=1 scripts/setup.sh skip the Debian packages (already installed)
set -euo pipefail
cd "$(dirname "$0")/.."

say() { printf '\033[1msetup:\033[0m %s\n' "$*" >&2; }

APT_PACKAGES=(
    python3-venv            # the virtual environment
    libsndfile1             # soundfile (WAV/FLAC/OGG/Opus)
    libportaudio2           # sounddevice (agent desktop capture)
    pulseaudio pulseaudio-utils  # capture tests through a null sink
    espeak-ng sox           # synthetic scripted test calls
    flite festival festvox-kallpc16k  # more TTS engines and voices for `eval live` (synthetic calls)
    postgresql              # the second database the tests run on
    redis-server            # the bus and live-call registry between nodes (tests start their own)
    maven                   # fetches the speech model from Maven Central
    chromium                # browser tests of the web UI
    fonts-wqy-zenhei        # CJK glyphs in the browser-test screenshots
    libfst-tools libfst22-plugins-base  # OpenFst: builds the model's static graph (models build-graph)
    libjemalloc2            # the allocator `serve` runs on (a third less Vosk CPU; server.allocator)
)

if [ -z "${SKIP_APT:-}" ]; then
    missing=()
    for p in "${APT_PACKAGES[@]}"; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
    done
    if [ ${#missing[@]} -gt 0 ]; then
        SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
        say "installing Debian packages: ${missing[*]}"
        $SUDO apt-get update -qq
        DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
    fi
fi

PY=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
    say "creating .venv with $($PY --version)"
    $PY -m venv .venv
fi
say "installing agent-monitor and its test tools into .venv"
.venv/bin/python -m pip install -q --upgrade pip
.venv/bin/python -m pip install -q -c constraints.txt -e '.[test]'

say "installing the default speech model"
AGENT_MONITOR=".venv/bin/python -m agent_monitor" bash .ci/install_model.sh
say "building the default model's static decoding graph (once; about a minute of CPU)"
.venv/bin/python -m agent_monitor models build-graph
say "done: activate with 'source .venv/bin/activate', then run 'agent-monitor --help'"
