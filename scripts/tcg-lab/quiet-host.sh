# Sourced by the recording scripts: waits for a quiet host before recording, since other load bloats the trace.
# Needs QUIET_PCT, QUIET_WAIT and a `log` function; sets `busy` (% busy seen last) and `waited` (seconds waited).

busy_pct() {   # % of CPU time not idle/iowait over the next 2 s, from /proc/stat
  local c u n s i w q sq st r1 r2 t1 t2 i1 i2
  read -r c u n s i w q sq st r1 < /proc/stat; t1=$((u+n+s+i+w+q+sq+st)); i1=$((i+w))
  sleep 2
  read -r c u n s i w q sq st r2 < /proc/stat; t2=$((u+n+s+i+w+q+sq+st)); i2=$((i+w))
  echo $(( 100 * ((t2 - t1) - (i2 - i1)) / (t2 - t1 > 0 ? t2 - t1 : 1) ))
}

wait_for_quiet_host() {
  waited=0; busy=$(busy_pct)
  while [ "$busy" -ge "$QUIET_PCT" ] && [ "$waited" -lt "$QUIET_WAIT" ]; do
    [ "$waited" = 0 ] && log "host is ${busy}% busy: waiting up to ${QUIET_WAIT}s for < ${QUIET_PCT}%"
    sleep 3; waited=$((waited + 5)); busy=$(busy_pct)
  done
  log "host busy before start: ${busy}% (waited ${waited}s)"
}
