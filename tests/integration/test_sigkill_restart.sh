#!/usr/bin/env bash
# SIGKILL mid-stream (a crash): after a restart no article is missing.
# At-least-once allows duplicates: they are counted and printed, not failed.
source "$(dirname "$0")/lib.sh"
bl_restart_scenario KILL 1
bl_log "PASS: SIGKILL mid-stream, restart: no id missing"
