#!/usr/bin/env bash
# Installs the Debian packages byline needs that are missing.
#   install-deps.sh build   what building and running byline needs
#   install-deps.sh test    that, plus what the test suite needs
# Runs apt-get only when something is missing (as root, or through sudo).
set -euo pipefail

build_pkgs=(build-essential cmake pkg-config librdkafka-dev libjansson-dev
  libcurl4-openssl-dev libmicrohttpd-dev libssl-dev libcmocka-dev iso-codes wamerican)
test_pkgs=(default-jre-headless maven python3 python3-jsonschema docker-compose kcat curl)

want=("${build_pkgs[@]}")
[[ "${1:-build}" == test ]] && want+=("${test_pkgs[@]}")

missing=()
for p in "${want[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
# A JRE from elsewhere (e.g. a JDK on PATH) serves as well as Debian's.
if [[ " ${missing[*]} " == *" default-jre-headless "* ]] && command -v java >/dev/null 2>&1; then
  missing=("${missing[@]/default-jre-headless}")
fi
if [[ " ${missing[*]} " == *" maven "* ]] && command -v mvn >/dev/null 2>&1; then
  missing=("${missing[@]/maven}")
fi
read -r -a missing <<<"${missing[*]}"
((${#missing[@]} == 0)) && exit 0

echo "install-deps: installing ${missing[*]}" >&2
sudo=""
if [[ $(id -u) -ne 0 ]]; then
  command -v sudo >/dev/null 2>&1 || { echo "install-deps: need root (or sudo) to install: ${missing[*]}" >&2; exit 1; }
  sudo="sudo"
fi
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
