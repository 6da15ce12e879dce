#!/bin/sh
# Create every topic of deploy/kafka/topics.conf that does not exist yet; leave the others as
# they are (changing a topic's partition count would move patients between partitions).
# Runs once, in the apache/kafka image, from docker-compose.yml's `topics` service.
set -eu
conf=${1:?usage: create-topics.sh topics.conf}
bootstrap=${BOOTSTRAP:?set BOOTSTRAP to the Kafka bootstrap servers}
partitions=${PARTITIONS:-12}
replication=${REPLICATION_FACTOR:-1}
kafka_topics=${KAFKA_TOPICS:-/opt/kafka/bin/kafka-topics.sh}
min_isr=1
if [ "$replication" -ge 3 ]; then min_isr=2; fi

until $kafka_topics --bootstrap-server "$bootstrap" --list > /dev/null 2>&1; do
  echo "waiting for Kafka at $bootstrap"
  sleep 2
done

grep -v '^[[:space:]]*#' "$conf" | while read -r topic configs; do
  [ -n "$topic" ] || continue
  set -- --config "min.insync.replicas=$min_isr"
  for config in $configs; do set -- "$@" --config "$config"; done
  $kafka_topics --bootstrap-server "$bootstrap" --create --if-not-exists --topic "$topic" \
    --partitions "$partitions" --replication-factor "$replication" "$@"
  echo "topic $topic: $partitions partitions, replication $replication, $configs"
done
