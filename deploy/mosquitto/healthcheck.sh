#!/bin/sh
# Healthy = the broker accepts the application user and serves a retained $SYS message.
set -eu
# shellcheck disable=SC2016  # a literal MQTT topic
exec mosquitto_sub -h 127.0.0.1 -p "${MOSQUITTO_HEALTH_PORT:-1883}" -u "$MQTT_USERNAME" -P "$MQTT_PASSWORD" \
  -t '$SYS/broker/version' -C 1 -W 5 >/dev/null
