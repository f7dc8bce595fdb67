#!/usr/bin/env bash
# Configure and build into build/ (warnings are errors, as in CI).
# usage: ci/build.sh [extra meson options]
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
if [ ! -f build/build.ninja ]; then
	meson setup build --werror "$@"
fi
ninja -C build
