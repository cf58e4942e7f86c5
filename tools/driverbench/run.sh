#!/bin/sh
# Runs the SQLite driver benchmark for every driver and prints one markdown
# table (stdout); progress and query plans go to stderr.
#
#   tools/driverbench/run.sh                 # defaults: -n 100000, 1 run
#   RUNS=5 tools/driverbench/run.sh -n 50000 # extra flags go to every run
#   DRIVERS="mattn modernc" tools/driverbench/run.sh
#
# With RUNS > 1 the drivers take turns in every round (so slow spells of a
# shared machine hit them alike), and a second table gives the median of
# each cell with the throughput range.
#
# The database lives in a fresh temp directory on disk: under $TMPDIR (or
# /tmp) unless that is a memory filesystem, else under .data/ here (ignored
# by git). It is removed afterwards.
set -eu

here=$(cd "$(dirname "$0")" && pwd)
cd "$here"
runs=${RUNS:-1}
drivers=${DRIVERS:-"mattn modernc ncruces"}

base=${TMPDIR:-/tmp}
fstype=$(findmnt -n -o FSTYPE -T "$base" 2>/dev/null || stat -f -c %T "$base")
case "$fstype" in
tmpfs | ramfs | zram*)
	base="$here/.data"
	mkdir -p "$base"
	fstype=$(findmnt -n -o FSTYPE -T "$base" 2>/dev/null || stat -f -c %T "$base")
	;;
esac
dir=$(mktemp -d "$base/driverbench.XXXXXX")
trap 'rm -rf "$dir"' EXIT
trap 'exit 130' INT TERM

bin="$dir/bin"
mkdir -p "$bin"
export GOFLAGS="${GOFLAGS:+$GOFLAGS }-mod=mod"
# mattn/go-sqlite3 and ncruces/go-sqlite3 both register "sqlite3", so
# ncruces gets its own binary (build tag ncruces leaves mattn out).
CGO_ENABLED=1 go build -o "$bin/driverbench" .
go build -tags ncruces -o "$bin/driverbench-ncruces" .

echo "driverbench: $(nproc) CPUs, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//'), $(go version | cut -d' ' -f3), db dir $dir ($fstype)" >&2

rows="$dir/rows.md"
header=-header
i=1
while [ "$i" -le "$runs" ]; do
	for d in $drivers; do
		b="$bin/driverbench"
		[ "$d" = ncruces ] && b="$bin/driverbench-ncruces"
		echo "driverbench: round $i, $d, $(date +%T), load $(cut -d' ' -f1-3 /proc/loadavg)" >&2
		"$b" -driver "$d" -dir "$dir" $header "$@" | tee -a "$rows"
		header=
	done
	i=$((i + 1))
done
[ "$runs" -gt 1 ] || exit 0

# Medians per driver and workload (rows in first-seen order).
echo
echo "Median of $runs runs; range = slowest–fastest run:"
echo
echo "| driver | workload | throughput (median) | range | p50 | p99 | CPU/op |"
echo "|---|---|---:|---:|---:|---:|---:|"
awk -F'|' -f summarize.awk "$rows"
