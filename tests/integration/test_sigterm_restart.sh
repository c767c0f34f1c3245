#!/usr/bin/env bash
# SIGTERM mid-stream must drain, commit and exit 0; after a restart every
# article is in the output exactly once (nothing lost, nothing repeated).
source "$(dirname "$0")/lib.sh"
bl_restart_scenario TERM 0
bl_log "PASS: SIGTERM mid-stream, restart: no id missing, none duplicated"
