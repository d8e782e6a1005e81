#!/bin/bash
# Healthy = a STOMP CONNECT with the application user is answered CONNECTED (listener up, KahaDB
# loaded, JAAS login works). Pure bash /dev/tcp: no client needed in the image.
set -euo pipefail
exec 3<>"/dev/tcp/127.0.0.1/${ACTIVEMQ_STOMP_PORT:-61613}"
printf 'CONNECT\naccept-version:1.2\nhost:localhost\nlogin:%s\npasscode:%s\n\n\0' \
  "$STOMP_USERNAME" "$STOMP_PASSWORD" >&3
reply=$(timeout 5 head -c 9 <&3 || true)
printf 'DISCONNECT\n\n\0' >&3 || true
exec 3<&-
[[ "$reply" == CONNECTED ]]
