#!/bin/sh
# dmarsift in CI, plain POSIX shell: analyze every capture under a directory, write SARIF and JUnit
# per capture into an output directory, and fail (exit 1) when any capture has a finding at or
# above the threshold. Exit 2 means a capture could not be read at all.
#
#   usage: dmarsift-ci.sh [CAPTURES_DIR] [OUT_DIR] [FAIL_ON]
#   env:   DMARSIFT  the command to run (default: npx dmarsift)
#
# Example (the repository's own samples, as the test suite runs it):
#   DMARSIFT="node bin/dmarsift.js" docs/ci/dmarsift-ci.sh samples reports error
set -u
captures=${1:-samples}
out=${2:-dmarsift-reports}
fail_on=${3:-error}
dmarsift=${DMARSIFT:-npx dmarsift}

mkdir -p "$out" || exit 2
worst=0
for dir in "$captures"/*/; do
  name=$(basename "$dir")
  [ "$name" = scenarios ] && continue
  # Each format is its own run so one report's failure cannot hide another's.
  $dmarsift analyze "$dir" --format sarif --fail-on "$fail_on" --output "$out/$name.sarif"
  rc=$?
  $dmarsift analyze "$dir" --format junit --fail-on "$fail_on" --output "$out/$name.junit.xml"
  rc2=$?
  [ "$rc2" -gt "$rc" ] && rc=$rc2
  case $rc in
    0) echo "ok      $name" ;;
    1) echo "FINDING $name (at or above $fail_on: see $out/$name.sarif)" ;;
    *) echo "ERROR   $name (could not be read)"; rc=2 ;;
  esac
  [ "$rc" -gt "$worst" ] && worst=$rc
done
exit "$worst"
