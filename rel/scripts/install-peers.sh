#!/usr/bin/env bash
# Installs the real peers imperial's tests talk to (Debian packages), only when
# something is missing: running it twice costs one dpkg query.
set -euo pipefail
bash "$(dirname "$0")/build-ferretdb.sh"  # the FerretDB test peer (Go, no package); a no-op when bin/ferretdb is current

packages=(
  erlang-nox erlang-dev erlang-src        # erl, escript, epmd, erlc, OTP sources
  ruby ruby-bert ruby-rack                # Ernie handlers and BERT clients; the Rack adapter
  uwsgi-core uwsgi-plugin-python3 python3-werkzeug
  nginx-light mongrel2-core
  python3-zmq python3-pika python3-pymongo
  postgresql rabbitmq-server
  curl procps
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "install-peers: all ${#packages[@]} packages present"
  exit 0
fi

echo "install-peers: installing ${missing[*]}"
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
# services must not start from the package scripts: tests start their own on loopback
created_policy=""
if [ ! -e /usr/sbin/policy-rc.d ]; then
  printf '#!/bin/sh\nexit 101\n' | $SUDO tee /usr/sbin/policy-rc.d >/dev/null
  $SUDO chmod +x /usr/sbin/policy-rc.d
  created_policy=1
fi
$SUDO apt-get update -q
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q "${missing[@]}"
[ -z "$created_policy" ] || $SUDO rm -f /usr/sbin/policy-rc.d
