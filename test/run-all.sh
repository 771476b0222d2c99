#!/usr/bin/env bash
# Every KCFlow test, against real services: PostgreSQL on 127.0.0.1:5432 (it must be
# running) and a real Kafka broker (started here if none runs, stopped again afterwards).
set -euo pipefail
cd "$(dirname "$0")/.."

npm run -s build
npm run -s typecheck

started_kafka=""
stop_kafka() { if [ -n "$started_kafka" ]; then bash test/infra/kafka.sh stop || true; fi; }
trap stop_kafka EXIT
# A broker already answering on the port (another checkout's, or the developer's) is used as it is.
if ! (exec 3<>/dev/tcp/127.0.0.1/"${KAFKA_PORT:-9092}") 2>/dev/null; then
  bash test/infra/kafka.sh start
  started_kafka=1
fi

if [ -z "${ESDB_CONNECTION_STRING:-}" ]; then
  echo "NOTE: the EventStoreDB contract suite is NOT run here: ESDB_CONNECTION_STRING is not set."
  echo "      Only its pure mapping code is unit-tested. See README, 'EventStoreDB'."
fi

npx jest --ci --selectProjects unit e2e
# PGlite loads parts of itself with dynamic import(), which Jest's sandbox allows only with
# this flag; the flag in turn breaks ESM-only packages the HTTP layer needs, so the suites
# that start PGlite in-process (contract) run in a Jest process of their own.
NODE_OPTIONS=--experimental-vm-modules npx jest --ci --selectProjects contract
# The split topology (api and workers as separate processes, killed mid-load) in a run of its
# own, so that its kills and fail-over timings do not compete with the other suites for CPU.
npx jest --ci --selectProjects topology
# The web console in real Chromium (/usr/bin/chromium, installed by .ci/run) against the built
# server; screenshots go to test-results/screenshots/ and their paths are printed.
npx jest --ci --selectProjects browser
