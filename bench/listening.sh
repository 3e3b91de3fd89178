# Sourced by the benchmark scripts: waiting for a daemon they started, and
# the port the kernel gave it (they listen on 127.0.0.1:0).

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
