#!/usr/bin/env bash
# install-deps.sh: install what comms_resolve needs to build and test on
# Debian 12 (run as root).  Does nothing when everything is present.
set -euo pipefail

packages=(
    make gcc clang libclang-rt-14-dev pkg-config
    postgresql-15 postgresql-server-dev-15
    libcurl4-openssl-dev libjson-c-dev
    libipc-run-perl libcmocka-dev
    libmicrohttpd-dev curl jq openssl iproute2 util-linux valgrind
)

missing=()
for p in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
    exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
    echo "install-deps: missing packages: ${missing[*]}; run as root to install them" >&2
    exit 1
fi
echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
