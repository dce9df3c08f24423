#!/usr/bin/env bash
# Creates (or checks) the vmtrace topics on a real broker from kafka/topics.conf.
# usage: KAFKA_BOOTSTRAP_SERVERS=broker:9092 kafka/create-topics.sh [path/to/kafka-topics.sh]
# The librdkafka mock cluster used by tests and `vmtrace dev-kafka` creates its topics itself.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
tool="${1:-kafka-topics.sh}"
: "${KAFKA_BOOTSTRAP_SERVERS:?set KAFKA_BOOTSTRAP_SERVERS}"
command -v "$tool" >/dev/null || { echo "create-topics: $tool not found (give the path of Kafka's kafka-topics.sh)" >&2; exit 2; }
grep -v '^\s*#' "$here/topics.conf" | grep -v '^\s*$' | while read -r name partitions replication configs; do
  args=()
  for c in $configs; do args+=(--config "$c"); done
  echo "topic $name: $partitions partitions, replication $replication, $configs"
  "$tool" --bootstrap-server "$KAFKA_BOOTSTRAP_SERVERS" --create --if-not-exists \
    --topic "$name" --partitions "$partitions" --replication-factor "$replication" "${args[@]}"
done
