#!/usr/bin/env bash
# The README's "What it looks like" pictures, from real runs on the sample the repository holds (samples/tcg-3vms):
#   docs/img/html-report.png   the first screen of `vmtrace analyze samples/tcg-3vms --html …`, drawn by headless chromium
#   README.md, between the <!-- top-example --> markers: one refresh of `vmtrace top --replay samples/tcg-3vms --once`
#                              (the window in the middle of the recording), as text
# Needs chromium on PATH (apt-get install chromium). Usage: scripts/screenshots.sh
set -euo pipefail
cd "$(dirname "$0")/.."
sample=samples/tcg-3vms
work=$(mktemp -d "${TMPDIR:-/tmp}/vmtrace-screenshots.XXXXXX")
trap 'rm -rf "$work"' EXIT
mkdir -p docs/img

dotnet build src/Vmtrace.Cli -c Release --nologo -v q -o "$work/bin" >/dev/null
vmtrace() { dotnet "$work/bin/vmtrace.dll" "$@"; }

# The HTML report: its first screen (header, resource timeline of the three VMs, the start of the VM list).
vmtrace analyze "$sample" --no-progress --format csv --html "$work/report.html" >/dev/null
dotnet run scripts/screenshot.cs -- "$work/report.html" docs/img/html-report.png 1280 860

# vmtrace top: every window of the replay (--once prints them all, one block each), then the middle one.
vmtrace top --replay "$sample" --once >"$work/top.txt"
awk -v RS= 'END { print NR }' "$work/top.txt" >"$work/blocks"
awk -v RS= -v want=$(( ($(cat "$work/blocks") + 1) / 2 )) 'NR == want { print; exit }' "$work/top.txt" >"$work/window.txt"
{
  echo '$ vmtrace top --replay samples/tcg-3vms --once     # every window of the recording, one block each; one of them:'
  cat "$work/window.txt"
} >"$work/top-block.txt"
awk -v block="$work/top-block.txt" '
  /^<!-- top-example -->$/ { print; print "```"; while ((getline line < block) > 0) print line; print "```"; skip = 1; next }
  /^<!-- \/top-example -->$/ { skip = 0 }
  !skip { print }
' README.md >"$work/README.md"
cp "$work/README.md" README.md
ls -l docs/img
