#!/usr/bin/env bash
# How fast Debian's C JSON libraries serialise byline's records (not part of
# ctest): the records of the first COUNT bench articles, written by
# bl_enrich_bench -o, are parsed once by each library and then serialised,
# each 4 times in a row while hot, 5 rounds (best kept, CPU time), jansson
# first as the reference, plus
# jansson on two leaner mention layouts. Installs libjson-c-dev,
# libcjson-dev and libyajl-dev when missing (they are used here only).
#
#   tests/bench/json_libs.sh
#
# Environment: BUILD_DIR (build-bench), COUNT (2000).
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
build=${BUILD_DIR:-build-bench}
count=${COUNT:-2000}
src=tests/bench/json_libs
out="$build/bench/json_libs"
mkdir -p "$out"

need=()
for pc in json-c:libjson-c-dev libcjson:libcjson-dev yajl:libyajl-dev; do
    pkg-config --exists "${pc%%:*}" || need+=("${pc#*:}")
done
if ((${#need[@]})); then
    sudo=""
    [ "$(id -u)" = 0 ] || sudo=sudo
    $sudo apt-get install -y "${need[@]}" >/dev/null
fi

BUILD_DIR=$build tests/bench/enrich_bench.sh -n "$count" -o "$out/records.jsonl" >/dev/null
flags=(-std=gnu11 -O2 -Wall -Wextra -Werror)
cc "${flags[@]}" "$src/dump_jansson.c" $(pkg-config --cflags --libs jansson) -o "$out/dump_jansson"
cc "${flags[@]}" "$src/dump_jsonc.c" $(pkg-config --cflags --libs json-c) -o "$out/dump_jsonc"
cc "${flags[@]}" "$src/dump_cjson.c" $(pkg-config --cflags --libs libcjson) -o "$out/dump_cjson"
cc "${flags[@]}" "$src/dump_yajl.c" $(pkg-config --cflags --libs yajl) -o "$out/dump_yajl"

echo "machine  $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg); $count records"
for prog in jansson jsonc cjson yajl; do
    "$out/dump_$prog" "$out/records.jsonl"
done
