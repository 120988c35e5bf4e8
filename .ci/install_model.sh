#!/usr/bin/env bash
# Install the default speech model (vosk-model-small-en-us-0.15) from Maven Central, as CI does.
#
# The model ships inside the Android archive com.alphacephei:vosk-model-en:0.3.45 (assets/model-en-us/).
# mvn fetches it into the local Maven repository; its sha256 is checked against the value pinned in
# models/manifest.toml, then `agent-monitor models install` unpacks, checks and installs it atomically.
# Nothing is done when `agent-monitor models verify` already passes.
#
# Environment: AGENT_MONITOR_MODEL_DIR (install there instead of models/), MAVEN_REPO (default ~/.m2/repository),
#              AGENT_MONITOR (the command to run, default "python -m agent_monitor").
set -euo pipefail

cd "$(dirname "$0")/.."

NAME=vosk-model-small-en-us-0.15
GROUP=com.alphacephei
ARTIFACT=vosk-model-en
VERSION=0.3.45   # 0.3.75 is empty (no model); 0.3.32/0.3.38/0.3.47 do not exist
SHA256=8a5792fccaf873b4745dbd1b3fe19d8a77a15898e806674020eea820424771cd
MAVEN_REPO=${MAVEN_REPO:-$HOME/.m2/repository}
AAR="$MAVEN_REPO/${GROUP//.//}/$ARTIFACT/$VERSION/$ARTIFACT-$VERSION.aar"
read -r -a AM <<<"${AGENT_MONITOR:-python -m agent_monitor}"

say() { printf 'install_model: %s\n' "$*" >&2; }

if ! grep -q "$SHA256" models/manifest.toml; then
    say "pinned sha256 $SHA256 is not in models/manifest.toml; update both together"
    exit 1
fi

if "${AM[@]}" models verify "$NAME" >/dev/null 2>&1; then
    say "$NAME already installed and verified; nothing to do"
    exit 0
fi

if [ ! -f "$AAR" ]; then
    command -v mvn >/dev/null || { say "mvn not found (apt-get install maven)"; exit 1; }
    say "fetching $GROUP:$ARTIFACT:$VERSION:aar from Maven Central"
    mvn -q dependency:get -Dartifact="$GROUP:$ARTIFACT:$VERSION:aar" -Dtransitive=false
fi
[ -f "$AAR" ] || { say "mvn did not leave $AAR"; exit 1; }

actual=$(sha256sum "$AAR" | cut -d' ' -f1)
if [ "$actual" != "$SHA256" ]; then
    say "$AAR: sha256 $actual does not match the pinned $SHA256; delete it and retry"
    exit 1
fi

"${AM[@]}" models install "$AAR" --name "$NAME"
"${AM[@]}" models verify "$NAME"
