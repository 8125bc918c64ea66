#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Install the Debian packages that ztp's build, tests and demo need.
# Idempotent: installs only what is missing. Needs root (or sudo).
set -eu

PKGS="build-essential cmake pkg-config clang libclang-rt-14-dev
libssl-dev openssl libevent-dev libjansson-dev libsqlite3-dev sqlite3 libpq-dev postgresql haproxy
libcurl4-openssl-dev curl libcmocka-dev libseccomp-dev gnutls-bin jq xxd procps bc python3 strace iproute2
faketime gcc-arm-none-eabi libnewlib-arm-none-eabi python3-pycryptodome
mosquitto mosquitto-clients libmosquitto-dev"

# the unprivileged user ztpd's front and signer run as when it starts as root
if ! id ztp >/dev/null 2>&1; then
	if [ "$(id -u)" -eq 0 ]; then
		useradd --system --user-group --no-create-home --home-dir /nonexistent \
			--shell /usr/sbin/nologin ztp
		echo "install-deps: created the system user ztp" >&2
	else
		echo "install-deps: no user ztp (run as root to create it; ztpd started as root needs it)" >&2
	fi
fi

missing=""
for p in $PKGS; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
		missing="$missing $p"
	fi
done
[ -z "$missing" ] && exit 0

echo "install-deps: installing$missing" >&2
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
	command -v sudo >/dev/null 2>&1 || { echo "install-deps: run as root to install:$missing" >&2; exit 1; }
	SUDO=sudo
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
# shellcheck disable=SC2086
$SUDO apt-get install -y -qq --no-install-recommends $missing >/dev/null
