# Sourced by the benchmark scripts: waiting for a daemon they started, the
# port the kernel gave it (they listen on 127.0.0.1:0), and stopping the
# ones started in a command substitution.

# wait_listening LOG: waits up to 10 s for LOG to hold the start line;
# fails (status 1) after printing LOG when it never does.
wait_listening() {
	for _ in $(seq 100); do
		grep -q "listening on" "$1" 2>/dev/null && return 0
		sleep 0.1
	done
	echo "no start line in $1:" >&2
	cat "$1" >&2
	return 1
}

# listening_port LOG: the port of the first start line in LOG (http or
# https, on 127.0.0.1).
listening_port() {
	sed -n 's/.*listening on https\{0,1\}:\/\/127\.0\.0\.1:\([0-9]*\).*/\1/p' \
	    "$1" | head -n 1
}

# stop_pidfiles FILE...: stops the process whose pid each FILE holds, and
# removes FILE.  Daemons started in a command substitution (a subshell)
# leave their pid in a file: a variable set there would not reach the
# script.
stop_pidfiles() {
	for f in "$@"; do
		[ -f "$f" ] || continue
		kill "$(cat "$f")" 2>/dev/null || true
		rm -f "$f"
	done
}
