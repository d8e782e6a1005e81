#!/bin/bash
# ActiveMQ start: write the JAAS users/groups from the environment, then run the broker in the
# foreground on activemq.xml. Written for the official `apache/activemq` 6.2 image (ACTIVEMQ_HOME
# /opt/apache-activemq, `activemq` on PATH, stock web console in $ACTIVEMQ_CONF/jetty.xml); the test
# suite runs this same script on Debian's ActiveMQ package (tests/deploy/test_brokers_for_real.py).
# Passwords are written with the printf builtin, never passed on a command line. Java properties
# syntax: keep usernames and passwords to letters, digits, '-', '_' and '.'.
#
# Optional (defaults = the compose stack): FINEMECA_ACTIVEMQ_CONF_DIR (this folder),
# FINEMECA_ACTIVEMQ_JAAS_DIR, ACTIVEMQ_STOMP_PORT, ACTIVEMQ_OPENWIRE_PORT, ACTIVEMQ_DATA,
# FINEMECA_ACTIVEMQ_WEBCONSOLE (Spring resource of the web console; the Debian package has none).
set -euo pipefail
: "${STOMP_USERNAME:?STOMP_USERNAME is required}"
: "${STOMP_PASSWORD:?STOMP_PASSWORD is required}"
: "${ACTIVEMQ_ADMIN_USERNAME:?ACTIVEMQ_ADMIN_USERNAME is required}"
: "${ACTIVEMQ_ADMIN_PASSWORD:?ACTIVEMQ_ADMIN_PASSWORD is required}"
prefix="${STOMP_QUEUE_PREFIX:-finemeca}"
conf="${FINEMECA_ACTIVEMQ_CONF_DIR:-/etc/finemeca/activemq}"
jaas="${FINEMECA_ACTIVEMQ_JAAS_DIR:-/tmp/finemeca-activemq}"
home="${ACTIVEMQ_HOME:-/opt/apache-activemq}"
webconsole="${FINEMECA_ACTIVEMQ_WEBCONSOLE:-file:${ACTIVEMQ_CONF:-$home/conf}/jetty.xml}"
# The image's data folder is root-owned; the broker runs unprivileged: KahaDB lives on the volume.
export ACTIVEMQ_DATA="${ACTIVEMQ_DATA:-$home/data}"
export ACTIVEMQ_TMP="${ACTIVEMQ_TMP:-/tmp/activemq-tmp}"
mkdir -p "$ACTIVEMQ_TMP"

umask 077
mkdir -p "$jaas"
cp "$conf/login.config" "$jaas/login.config"
printf '%s=%s\n%s=%s\n' \
  "$STOMP_USERNAME" "$STOMP_PASSWORD" "$ACTIVEMQ_ADMIN_USERNAME" "$ACTIVEMQ_ADMIN_PASSWORD" >"$jaas/users.properties"
printf 'apps=%s\nadmins=%s\nusers=%s\n' \
  "$STOMP_USERNAME" "$ACTIVEMQ_ADMIN_USERNAME" "$ACTIVEMQ_ADMIN_USERNAME" >"$jaas/groups.properties"

# The `activemq` script sources the files of ACTIVEMQ_CONFIGS, and the image's bin/env (or Debian's
# activemq-options) would replace ACTIVEMQ_OPTS: ours is the last word, after the image's defaults.
opts="${ACTIVEMQ_OPTS_MEMORY:--Xms128M -Xmx512M} \
-Djava.util.logging.config.file=logging.properties \
-Djava.security.auth.login.config=$jaas/login.config \
-Djava.io.tmpdir=$ACTIVEMQ_TMP \
-Dfinemeca.queue.prefix=$prefix \
-Dfinemeca.stomp.port=${ACTIVEMQ_STOMP_PORT:-61613} \
-Dfinemeca.openwire.port=${ACTIVEMQ_OPENWIRE_PORT:-61616} \
-Dfinemeca.webconsole=$webconsole \
-Djetty.host=0.0.0.0"
{
  # shellcheck disable=SC2016  # written literally: expanded when the activemq script sources it
  printf '[ -f "$ACTIVEMQ_HOME/bin/env" ] && . "$ACTIVEMQ_HOME/bin/env"\n'
  printf 'ACTIVEMQ_OPTS=%q\n' "$opts"
} >"$jaas/activemq-env"
export ACTIVEMQ_CONFIGS="$jaas/activemq-env"
exec activemq console "xbean:file:$conf/activemq.xml"
