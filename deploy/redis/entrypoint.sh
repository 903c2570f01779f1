#!/bin/sh
# Like the official redis image, which is built with protected mode off: without a config file
# Redis binds every interface but, in protected mode, refuses clients from other containers.
# Put first, so a --protected-mode given in the command still wins.
set -eu
if [ "${1:-}" = redis-server ]; then
  shift
  set -- redis-server --protected-mode no "$@"
fi
exec "$@"
