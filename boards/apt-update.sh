#!/bin/sh
# boards/apt-update.sh - apt-get update that survives a mirror caught between
# two syncs. apt exits 100 when any one index fails (seen here: the security
# archive's armhf Packages "File has unexpected size ... Mirror sync in
# progress?"), although the indexes it did fetch are good. So: try three
# times, 10 s apart; if an index still fails, print apt's error lines and go
# on. A package that is really missing then fails apt-get install with apt's
# own message, which names it.
set -u
tries=3
n=1
while :; do
	out=$(apt-get update -q 2>&1) && exit 0
	if [ "$n" -ge "$tries" ]; then
		echo "apt-update: apt-get update failed $tries times; going on with the indexes it has:" >&2
		printf '%s\n' "$out" | grep -E '^(E|W|Err):' | head -n 8 >&2
		exit 0
	fi
	echo "apt-update: apt-get update failed (try $n of $tries); again in 10 s" >&2
	n=$((n + 1))
	sleep 10
done
