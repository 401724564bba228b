#!/usr/bin/env bash
# Installs the pinned @huggingface/gguf (package-lock.json) that the
# cross-check reads GGUF files with. Needs node >= 20 and npm.
# Then: GGUFS_CROSSCHECK=1 go test ./test/crosscheck/
set -euo pipefail
cd "$(dirname "$0")"
if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
	echo "crosscheck setup: node and npm are required (Debian: apt-get install -y nodejs npm)" >&2
	exit 1
fi
npm ci --no-audit --no-fund --loglevel=error
node -e 'console.log("crosscheck setup: @huggingface/gguf " + require("./node_modules/@huggingface/gguf/package.json").version + " on node " + process.version)'
