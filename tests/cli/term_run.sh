#!/usr/bin/env bash
# term_run.sh DIR PROGRAM [ARGS...]: runs PROGRAM on this terminal (a tmux
# pane of survey_fill.bats), its pid in DIR/pid while it runs (the pid of
# PROGRAM itself: the inner shell execs it, so kill -9 hits tidu, not a
# shell) and, once it ends, its exit status in DIR/rc and a last line
# "[exit N]" on the screen. The pane then stays (for capture-pane) until the
# test stops the tmux server.
dir=$1
shift
bash -c 'echo $$ >"$0/pid.tmp" && mv "$0/pid.tmp" "$0/pid" && exec "$@"' "$dir" "$@"
rc=$?
rm -f "$dir/pid"
echo "[exit $rc]"
echo "$rc" >"$dir/rc.tmp" && mv "$dir/rc.tmp" "$dir/rc"
exec sleep 100000
