#!/bin/sh
# Healthy = the broker accepts the application user and serves a retained $SYS message.
set -eu
exec mosquitto_sub -h 127.0.0.1 -p 1883 -u "$MQTT_USERNAME" -P "$MQTT_PASSWORD" \
  -t '$SYS/broker/version' -C 1 -W 5 >/dev/null
