# exit 3
# Processes: exit statuses, signals, traps, background jobs, wait, kill,
# SIGPIPE in pipelines, many fork+exec, eval, env, timeout.
sh -c 'exit 7'; echo "child exit $?"
sh -c 'kill -TERM $$'; echo "child killed by TERM: $?"
sh -c 'kill -KILL $$'; echo "child killed by KILL: $?"
(trap 'echo trap on exit' EXIT; echo in trap subshell)
sh -c 'trap "echo got USR1" USR1; kill -USR1 $$; echo after usr1'
sleep 0.2 & pid=$!; echo "background started"; wait $pid; echo "wait status $?"
(exit 5) & wait $!; echo "background exit $?"
sleep 10 & p=$!; kill $p; wait $p; echo "killed background: $?"
for i in 1 2 3; do (echo "job $i" > job$i.txt) & done; wait; cat job1.txt job2.txt job3.txt; echo "all jobs done"
yes | head -n 3; yes abc | head -c 20; echo
seq 1 100000 | head -n 1; echo "pipe closed early ok"
seq 1 200 | sort -rn | head -n 3
i=0; while [ $i -lt 30 ]; do true; /bin/busybox true; i=$((i + 1)); done; echo "30 execs done"
eval 'echo eval $((2 + 2))'; command -v ls >/dev/null && echo "ls found in PATH"
timeout 5 sleep 0.1; echo "timeout status $?"
env -i FOO=bar /bin/busybox sh -c 'echo "env -i: FOO=$FOO"'
sh -c "echo \"\$0 \$1\"" zero one
exit 3
