# What the scripts that start test servers share; sourced by each after it sets `base`.
# `log` names the script; `wait_for` polls a command once a second, for `wait_seconds` (60
# unless the script sets it), and on giving up says where to look (`wait_hint`, if set).
script_name=$(basename "$0")
log() { echo "$script_name: $*" >&2; }
wait_for() { # what, command...
  local what=$1; shift
  for _ in $(seq "${wait_seconds:-60}"); do "$@" >/dev/null 2>&1 && return 0; sleep 1; done
  log "$what did not come up${wait_hint:+ ($wait_hint)}"; return 1
}
