#!/usr/bin/env bash
# Installs wrk, the HTTP load generator `make bench` compares the plugin with,
# from the distribution's packages when it is not on the PATH already.
set -euo pipefail

if command -v wrk >/dev/null 2>&1; then
	exit 0
fi
sudo=""
if [ "$(id -u)" -ne 0 ]; then
	sudo="sudo"
fi
if command -v apt-get >/dev/null 2>&1; then
	echo ">> Installing wrk (Debian package)"
	$sudo apt-get update -qq
	$sudo apt-get install -y -qq wrk >/dev/null
else
	echo "wrk is not installed and there is no apt-get: install wrk, then rerun make bench" >&2
	exit 1
fi
