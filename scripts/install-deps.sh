#!/usr/bin/env bash
# Installs what the tests and benchmarks need on a Debian machine (run as root).
# babeltrace2 and trace-cmd are the reference readers the decoders are checked against.
set -euo pipefail
need=()
for pkg in babeltrace2 trace-cmd xz-utils zstd; do
  dpkg -s "$pkg" >/dev/null 2>&1 || need+=("$pkg")
done
if [ ${#need[@]} -gt 0 ]; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq "${need[@]}" >/dev/null
fi
echo "install-deps: ok (babeltrace2 $(babeltrace2 --version | head -1 | awk '{print $NF}'), trace-cmd $(trace-cmd --version 2>/dev/null | awk 'NR==2{print $3}'))"
