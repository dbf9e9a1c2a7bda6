#!/usr/bin/env bash
# CI entry point for the real-cloud suite:
#   bash tests/realcloud/run.sh [extra pytest args]
# Starts Cinder 29 + Keystone 30 + RabbitMQ on loopback (tests/realcloud/cloud.py up), runs
# `pytest tests/realcloud tests/behaviour -m realcloud` (the real-cloud suite and the `real`
# variants of the behavioural suite the simulator also runs), always stops the cloud (also on failure or Ctrl-C),
# prints the timings, and exits with pytest's exit code (or 1 if the cloud did not come up).
#
# Environment: REALCLOUD_CACHE, REALCLOUD_RUN, REALCLOUD_PORT_BASE, REALCLOUD_PYTHON (see
# cloud.py); REALCLOUD_TEST_PYTHON (default .venv/bin/python) runs cloud.py and pytest.
set -uo pipefail

cd "$(dirname "$0")/../.."
PYTHON=${REALCLOUD_TEST_PYTHON:-.venv/bin/python}
[ -x "$PYTHON" ] || PYTHON=python3
CLOUD=(env "$PYTHON" tests/realcloud/cloud.py)

now() { date +%s.%N; }
secs() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", b - a }'; }

stopped=0
down() {
    [ "$stopped" = 1 ] && return
    stopped=1
    local t0
    t0=$(now)
    "${CLOUD[@]}" down
    echo "realcloud: down took $(secs "$t0" "$(now)") s"
}
trap down EXIT
trap 'exit 130' INT TERM

t0=$(now)
if ! "${CLOUD[@]}" up; then
    echo "realcloud: cloud did not come up (logs under ${REALCLOUD_RUN:-${TMPDIR:-/tmp}/snapshot-dashboard-realcloud}/logs)" >&2
    exit 1
fi
t_up=$(secs "$t0" "$(now)")

run_dir=${REALCLOUD_RUN:-${TMPDIR:-/tmp}/snapshot-dashboard-realcloud}
export REALCLOUD_FILE="$run_dir/cloud.json"
export OS_CLIENT_CONFIG_FILE="$run_dir/clouds.yaml"

t1=$(now)
"$PYTHON" -m pytest tests/realcloud tests/behaviour -m realcloud "$@"
rc=$?
t_tests=$(secs "$t1" "$(now)")

down
echo "realcloud: timings: up (install + start) ${t_up} s, tests ${t_tests} s;" \
    "details: $(tr -d ' \n' < "$run_dir/timings.json" 2>/dev/null)"
exit "$rc"
