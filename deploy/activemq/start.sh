#!/bin/bash
# ActiveMQ start: write the JAAS users/groups from the environment, then run the broker in the
# foreground on /etc/finemeca/activemq/activemq.xml. KahaDB lives in ${ACTIVEMQ_HOME}/data (volume).
# Passwords are written with the printf builtin, never passed on a command line. Java properties
# syntax: keep usernames and passwords to letters, digits, '-', '_' and '.'.
set -euo pipefail
: "${STOMP_USERNAME:?STOMP_USERNAME is required}"
: "${STOMP_PASSWORD:?STOMP_PASSWORD is required}"
: "${ACTIVEMQ_ADMIN_USERNAME:?ACTIVEMQ_ADMIN_USERNAME is required}"
: "${ACTIVEMQ_ADMIN_PASSWORD:?ACTIVEMQ_ADMIN_PASSWORD is required}"
export STOMP_QUEUE_PREFIX="${STOMP_QUEUE_PREFIX:-finemeca}"

jaas=/tmp/finemeca-activemq
umask 077
mkdir -p "$jaas"
cp /etc/finemeca/activemq/login.config "$jaas/login.config"
printf '%s=%s\n%s=%s\n' \
  "$STOMP_USERNAME" "$STOMP_PASSWORD" "$ACTIVEMQ_ADMIN_USERNAME" "$ACTIVEMQ_ADMIN_PASSWORD" >"$jaas/users.properties"
printf 'apps=%s\nadmins=%s\nusers=%s\n' \
  "$STOMP_USERNAME" "$ACTIVEMQ_ADMIN_USERNAME" "$ACTIVEMQ_ADMIN_USERNAME" >"$jaas/groups.properties"

export ACTIVEMQ_OPTS="${ACTIVEMQ_OPTS_MEMORY:--Xms128M -Xmx512M} \
-Djava.util.logging.config.file=logging.properties \
-Djava.security.auth.login.config=$jaas/login.config \
-Dfinemeca.queue.prefix=$STOMP_QUEUE_PREFIX \
-Djetty.host=0.0.0.0"
exec activemq console "xbean:file:/etc/finemeca/activemq/activemq.xml"
