#!/usr/bin/env bash
# Installs what the tests and benchmarks need on a Debian machine (run as root).
# babeltrace2 and trace-cmd are the reference readers the decoders are checked against;
# influxdb provides /usr/bin/influxd (1.x), which the InfluxDB tests start on free 127.0.0.1 ports.
# chromium is the browser the HTML report tests drive through PuppeteerSharp (never a downloaded one);
# docker-compose validates docker-compose.yml (its YAML is read by YamlDotNet in the tests, not by Python).
# qemu-system-x86, busybox-static, cpio, iproute2 and python3 run the live agent's real-QEMU test (TCG guests on a
# tap in a network namespace); its guest (a Debian linux-image kernel + busybox initramfs) is built below.
set -euo pipefail
need=()
for pkg in babeltrace2 trace-cmd xz-utils zstd influxdb chromium docker-compose qemu-system-x86 busybox-static cpio iproute2 python3; do
  dpkg -s "$pkg" >/dev/null 2>&1 || need+=("$pkg")
done
# node/npm for the Grafana schema check (a nodesource nodejs already brings npm: never add Debian's beside it)
command -v node >/dev/null || need+=(nodejs)
command -v npm >/dev/null || need+=(npm)
if [ ${#need[@]} -gt 0 ]; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  # policy-rc.d 101: the influxdb package must not start a system-wide daemon on 8086 as it installs.
  policy=/usr/sbin/policy-rc.d
  if [ ! -e "$policy" ]; then
    printf '#!/bin/sh\nexit 101\n' > "$policy" && chmod +x "$policy"
    trap 'rm -f "$policy"' EXIT
  fi
  apt-get install -y -qq "${need[@]}" >/dev/null
fi
# @grafana/schema + typescript, pinned by grafana/schema-check/package-lock.json
schema_check="$(dirname "$0")/../grafana/schema-check"
if [ ! -d "$schema_check/node_modules/@grafana/schema" ] || [ "$schema_check/package-lock.json" -nt "$schema_check/node_modules" ]; then
  (cd "$schema_check" && npm ci --no-audit --no-fund --silent)
fi
# The TCG guest of LiveAgentOnTcgGuestsTests: downloads the linux-image .deb once, cached (also done by the test).
bash "$(dirname "$0")/tcg-lab/build-guest.sh" /var/tmp/vmtrace-tcg-lab >/dev/null
echo "install-deps: ok (babeltrace2 $(babeltrace2 --version | head -1 | awk '{print $NF}'), trace-cmd $(trace-cmd --version 2>/dev/null | awk 'NR==2{print $3}'), $(influxd version 2>/dev/null | awk '{print $1, $2}'))"
