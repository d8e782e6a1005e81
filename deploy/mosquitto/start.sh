#!/bin/sh
# Mosquitto start: write the password file and ACL from the environment, then run the broker.
# Runs as root through the image's docker-entrypoint.sh; mosquitto itself drops to user `mosquitto`.
# MOSQUITTO_AUTH_DIR / MOSQUITTO_CONF: other paths (tests/deploy/test_brokers_for_real.py).
# MOSQUITTO_AUTOSAVE_CHANGES: save the store every N queued messages (default 1000; README, "No data loss").
# Passwords never appear on a command line: printf is a shell builtin and mosquitto_passwd -U
# hashes the file in place.
set -eu
: "${MQTT_USERNAME:?MQTT_USERNAME is required}"
: "${MQTT_PASSWORD:?MQTT_PASSWORD is required}"
: "${MQTT_DEVICE_USERNAME:?MQTT_DEVICE_USERNAME is required}"
: "${MQTT_DEVICE_PASSWORD:?MQTT_DEVICE_PASSWORD is required}"
prefix="${MQTT_TOPIC_PREFIX:-finemeca}"
auth="${MOSQUITTO_AUTH_DIR:-/mosquitto/auth}"
conf="${MOSQUITTO_CONF:-/etc/finemeca/mosquitto/mosquitto.conf}"
changes="${MOSQUITTO_AUTOSAVE_CHANGES:-1000}"
case "$changes" in
  '' | *[!0-9]* | 0*)
    echo "MOSQUITTO_AUTOSAVE_CHANGES must be a whole number >= 1 (queued messages per save), got '$changes'" >&2
    exit 2
    ;;
esac

umask 077
mkdir -p "$auth"
printf '%s:%s\n%s:%s\n' \
  "$MQTT_USERNAME" "$MQTT_PASSWORD" "$MQTT_DEVICE_USERNAME" "$MQTT_DEVICE_PASSWORD" >"$auth/passwd"
mosquitto_passwd -U "$auth/passwd"

# Applications (gateways, simulators in a trial) read the data topics, including through MQTT 5
# shared subscriptions, and $SYS for the health check; devices (Raspberry Pi gateways) only publish.
cat >"$auth/acl" <<ACL
user $MQTT_USERNAME
topic readwrite $prefix/#
topic read \$share/+/$prefix/#
topic read \$SYS/#

user $MQTT_DEVICE_USERNAME
topic write $prefix/#
ACL
chown -R mosquitto:mosquitto "$auth"
chmod 0700 "$auth"
chmod 0600 "$auth/passwd" "$auth/acl"

# The config volume is read-only: the broker runs a copy carrying the autosave setting.
sed "s/^autosave_interval .*/autosave_interval $changes/" "$conf" >"$auth/mosquitto.conf"
chown mosquitto:mosquitto "$auth/mosquitto.conf"
exec mosquitto -c "$auth/mosquitto.conf"
