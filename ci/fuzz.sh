#!/usr/bin/env bash
# libFuzzer targets of the EAL-free ring and offload code.
#
# A target is drivers/net/vdevpeer/fuzz/fuzz_<name>.c with its corpus in
# drivers/net/vdevpeer/fuzz/corpus/<name>/: adding those two is all it
# takes (a line " * fuzz-args: ..." in the source gives the target's own
# libFuzzer options, e.g. -max_len; " * fuzz-smoke-runs: N" its number of
# smoke executions, for a target much slower per input than the others).
# Each is built with clang, libFuzzer, ASan and UBSan together with the
# EAL-free core (vdp_ring_sources in
# drivers/net/vdevpeer/meson.build: vdp_mem.c, vdp_split.c, vdp_offload.c,
# ...) into build-fuzz/ (FUZZ_OUT=<dir> for another directory: every
# build-fuzz/ below is then that one), outside meson; no DPDK, no network.
#
# usage:
#   ci/fuzz.sh smoke [target...]
#       each target over its committed corpus, then FUZZ_SMOKE_RUNS (default
#       the target's fuzz-smoke-runs, else 300000) new executions with a
#       fixed seed (-seed=1); the corpus is not modified. Exit status
#       non-zero on any finding. Run by meson test (suite 'fuzz'). Measured
#       on the 2-CPU CI machine, idle: split 11 s, offload 7 s, vumsg 1 s;
#       packed (100000 runs) 19 s with the other CPU partly busy; about
#       twice that while the e2e tests share it.
#   ci/fuzz.sh long [target...] [-runs=N] [-merge] [libFuzzer options]
#       the long run, one target after the other, one process each (no
#       -jobs/-workers), under nice -n 19: -runs=100000000 unless given.
#       New inputs go to build-fuzz/long/<target>/, the log to
#       build-fuzz/long/<target>.log; with -merge they are then merged,
#       minimized, into the corpus (see merge). Prints per target the
#       executions done, exec/s, wall time, coverage and any finding.
#   ci/fuzz.sh merge [target...]
#       minimize corpus/<target> with -merge=1, adding what a long run
#       found (build-fuzz/long/<target>/); the seeds (seed-*) and the
#       regression inputs (regress-*: inputs that once broke a check) are
#       kept.
#   ci/fuzz.sh seeds [target...]
#       regenerate the hand-made seeds (fuzz/seeds.py).
#   ci/fuzz.sh coverage [target...]
#       line/branch coverage of the EAL-free sources by each corpus
#       (llvm-cov report; build-fuzz/cov-<target>/ holds the html).
#   ci/fuzz.sh build [target...] | list
#
# Findings: the input is saved as build-fuzz/artifacts/<target>-crash-<sha1>
# (or -timeout-, -oom-, -leak-); reproduce with
#   build-fuzz/fuzz_<target> build-fuzz/artifacts/<file>
# and minimize with -minimize_crash=1 -runs=100000 (see libFuzzer docs).
#
# Exit status: 0 ok; 1 a finding or an error; 77 clang or libFuzzer
# missing (meson counts that as skipped); 2 bad usage.
set -uo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
drv=drivers/net/vdevpeer
fdir=$drv/fuzz
out=${FUZZ_OUT:-build-fuzz}
cd "$top"

CC=${CC_FUZZ:-clang}
SMOKE_RUNS=${FUZZ_SMOKE_RUNS:-}
LONG_RUNS=100000000
CFLAGS=(-std=c11 -D_GNU_SOURCE -O1 -g -fno-omit-frame-pointer -Wall -Wextra
	-fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all -I"$drv")
# The EAL-free core every target links: meson's vdp_ring_sources list (the
# one place that says which files need no DPDK), so that a target for a new
# EAL-free module needs nothing here.
mapfile -t LIB_SRCS < <(sed -n '/^vdp_ring_sources *= *files(/,/)/p' "$drv/meson.build" |
	grep -o "'[^']*\.c'" | tr -d "'" | sed "s|^|$drv/|")
[ ${#LIB_SRCS[@]} != 0 ] ||
	LIB_SRCS=("$drv/vdp_mem.c" "$drv/vdp_split.c" "$drv/vdp_offload.c")
# libFuzzer's own default error exit code is 77, which meson would take
# for "skipped": findings exit with these instead.
FINDING_EXIT=(-error_exitcode=1 -timeout_exitcode=1)
export ASAN_OPTIONS=${ASAN_OPTIONS:-abort_on_error=1:detect_leaks=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

die() { echo "fuzz.sh: $*" >&2; exit 1; }
usage() { sed -n '2,/^set -uo/p' "$0" | sed '$d; s/^# \{0,1\}//' >&2; exit 2; }

all_targets() {
	local f
	for f in "$fdir"/fuzz_*.c; do
		[ -e "$f" ] || continue
		f=${f##*/fuzz_}
		echo "${f%.c}"
	done
}

# The target's own libFuzzer options: " * fuzz-args: ..." in its source.
target_args() {
	sed -n 's/^ \* fuzz-args: *//p' "$fdir/fuzz_$1.c" | head -n 1
}

# Smoke executions: FUZZ_SMOKE_RUNS, else " * fuzz-smoke-runs: N" in the
# target's source, else 300000.
smoke_runs() {
	local n

	[ -n "$SMOKE_RUNS" ] && { echo "$SMOKE_RUNS"; return; }
	n=$(sed -n 's/^ \* fuzz-smoke-runs: *\([0-9][0-9]*\).*/\1/p' "$fdir/fuzz_$1.c" |
		head -n 1)
	echo "${n:-300000}"
}

check_toolchain() {
	local t
	if ! command -v "$CC" >/dev/null 2>&1; then
		echo "fuzz.sh: $CC not found: the fuzz targets need clang with libFuzzer" \
			"(Debian packages: clang, libclang-rt-14-dev)" >&2
		exit 77
	fi
	mkdir -p "$out"
	t=$(mktemp -d "$out/.probe.XXXXXX") || die "cannot write $out"
	echo 'int LLVMFuzzerTestOneInput(const unsigned char *d, unsigned long n)
	      { (void)d; (void)n; return 0; }' >"$t/p.c"
	if ! "$CC" -fsanitize=fuzzer,address,undefined "$t/p.c" -o "$t/p" >"$t/log" 2>&1; then
		echo "fuzz.sh: $CC cannot link with -fsanitize=fuzzer,address,undefined:" >&2
		sed 's/^/  /' "$t/log" | head -n 5 >&2
		echo "fuzz.sh: install libFuzzer's runtime (Debian packages: clang," \
			"libclang-rt-14-dev)" >&2
		rm -rf "$t"
		exit 77
	fi
	rm -rf "$t"
}

# Build the targets whose binary is older than any of its sources.
build() {
	local t bin src newer
	check_toolchain
	exec 9>"$out/.lock"
	flock 9   # meson may run two smoke tests at once
	for t in "$@"; do
		bin=$out/fuzz_$t
		newer=0
		[ -x "$bin" ] || newer=1
		for src in "$fdir/fuzz_$t.c" "$fdir"/*.h "${LIB_SRCS[@]}" "$drv"/vdp_*.h "$0"; do
			[ "$src" -nt "$bin" ] && newer=1
		done
		[ $newer = 1 ] || continue
		echo "fuzz.sh: building $bin"
		# The harness without comparison tracing: its checks compare the
		# library with its model, nothing the mutator should try to
		# solve (and a quarter of the time spent); edges still count.
		"$CC" "${CFLAGS[@]}" -fno-sanitize-coverage=trace-cmp -c "$fdir/fuzz_$t.c" \
			-o "$bin.o" &&
			"$CC" "${CFLAGS[@]}" "$bin.o" "${LIB_SRCS[@]}" -o "$bin.tmp" ||
			die "build of fuzz_$t failed"
		rm -f "$bin.o"
		mv -f "$bin.tmp" "$bin"
	done
	exec 9>&-
}

# Targets named on the command line (all when none), checked.
targets=()
fuzzer_args=()
merge=0
parse_args() {
	local a
	for a in "$@"; do
		case $a in
		-merge) merge=1 ;;
		-*) fuzzer_args+=("$a") ;;
		*)
			[ -f "$fdir/fuzz_$a.c" ] || die "no target $a ($fdir/fuzz_$a.c)"
			targets+=("$a")
			;;
		esac
	done
	if [ ${#targets[@]} = 0 ]; then
		mapfile -t targets < <(all_targets)
	fi
	[ ${#targets[@]} != 0 ] || die "no fuzz targets in $fdir"
}

# "stat::name: value" from a log written with -print_final_stats=1.
stat() {
	sed -n "s/^stat::$2: *//p" "$1" | tail -n 1
}

# Artifacts a run left, newer than its start marker.
findings() {
	find "$out/artifacts" -maxdepth 1 -type f -name "$1-*" -newer "$2" 2>/dev/null
}

smoke() {
	local t work log rc start fail=0 corpus
	build "${targets[@]}"
	mkdir -p "$out/artifacts"
	for t in "${targets[@]}"; do
		corpus=$fdir/corpus/$t
		[ -d "$corpus" ] || die "no corpus $corpus"
		work=$(mktemp -d "$out/smoke-$t.XXXXXX")
		log=$out/smoke-$t.log
		start=$(date +%s)
		touch "$work/.start"
		# new inputs go to the scratch dir (first), the corpus is read only
		# shellcheck disable=SC2046
		"$out/fuzz_$t" $(target_args "$t") -runs="$(smoke_runs "$t")" -seed=1 \
			-timeout=20 -rss_limit_mb=2560 -print_final_stats=1 \
			"${FINDING_EXIT[@]}" -artifact_prefix="$out/artifacts/$t-" \
			"${fuzzer_args[@]}" "$work" "$corpus" >"$log" 2>&1
		rc=$?
		if [ $rc != 0 ] || [ -n "$(findings "$t" "$work/.start")" ]; then
			echo "fuzz.sh: smoke $t: FINDING (exit $rc), log $log:" >&2
			grep -E 'invariant broken|ERROR|SUMMARY|Test unit written' "$log" >&2
			fail=1
		else
			echo "fuzz.sh: smoke $t: ok, $(stat "$log" number_of_executed_units)" \
				"executions in $(($(date +%s) - start)) s," \
				"$(grep -o 'cov: [0-9]* ft: [0-9]*' "$log" | tail -n 1)"
		fi
		rm -rf "$work"
	done
	return $fail
}

# Minimize corpus/<t> (+ what a long run found) into a fresh directory that
# starts with the seeds, then put that in place of the corpus.
merge_target() {
	local t=$1 corpus=$fdir/corpus/$1 new=$out/merge-$1 extra=() kb
	rm -rf "$new"
	mkdir -p "$new" "$corpus"
	cp "$corpus"/seed-* "$corpus"/regress-* "$new"/ 2>/dev/null
	[ -d "$out/long/$t" ] && extra=("$out/long/$t")
	# shellcheck disable=SC2046
	"$out/fuzz_$t" $(target_args "$t") -merge=1 -timeout=20 -rss_limit_mb=2560 \
		-artifact_prefix="$out/artifacts/$t-" "$new" "$corpus" "${extra[@]}" \
		>"$out/merge-$t.log" 2>&1 || die "merge of $t failed: $out/merge-$t.log"
	find "$corpus" -maxdepth 1 -type f ! -name 'seed-*' ! -name 'regress-*' -delete
	find "$new" -maxdepth 1 -type f ! -name 'seed-*' ! -name 'regress-*' \
		-exec mv -t "$corpus" {} +
	rm -rf "$new"
	kb=$(du -sk --apparent-size "$corpus" | cut -f1)
	echo "fuzz.sh: merge $t: corpus $(find "$corpus" -type f | wc -l) files, ${kb} KiB"
	[ "$kb" -le 2048 ] || echo "fuzz.sh: merge $t: corpus over 2 MiB" >&2
}

long() {
	local t log rc start wall execs eps found fail=0 runs="-runs=$LONG_RUNS" a
	for a in "${fuzzer_args[@]}"; do
		case $a in -runs=*) runs= ;; esac
	done
	build "${targets[@]}"
	mkdir -p "$out/artifacts" "$out/long"
	for t in "${targets[@]}"; do
		mkdir -p "$out/long/$t"
		log=$out/long/$t.log
		touch "$out/long/$t.start"
		start=$(date +%s)
		echo "fuzz.sh: long $t: ${runs:-${fuzzer_args[*]}}, log $log"
		# shellcheck disable=SC2046,SC2086
		nice -n 19 "$out/fuzz_$t" $(target_args "$t") $runs -timeout=20 \
			-rss_limit_mb=2560 -print_final_stats=1 "${FINDING_EXIT[@]}" \
			-artifact_prefix="$out/artifacts/$t-" "${fuzzer_args[@]}" \
			"$out/long/$t" "$fdir/corpus/$t" >"$log" 2>&1
		rc=$?
		wall=$(($(date +%s) - start))
		execs=$(stat "$log" number_of_executed_units)
		eps=$(stat "$log" average_exec_per_sec)
		found=$(findings "$t" "$out/long/$t.start")
		echo "fuzz.sh: long $t: ${execs:-?} executions in $wall s (${eps:-?} exec/s)," \
			"$(grep -o 'cov: [0-9]* ft: [0-9]*' "$log" | tail -n 1)," \
			"$(stat "$log" new_units_added) new inputs, peak rss" \
			"$(stat "$log" peak_rss_mb) MB"
		if [ $rc != 0 ] || [ -n "$found" ]; then
			echo "fuzz.sh: long $t: FINDING (exit $rc): ${found:-see $log}" >&2
			grep -E 'invariant broken|ERROR|SUMMARY' "$log" | head -n 5 >&2
			fail=1
		else
			echo "fuzz.sh: long $t: no finding"
		fi
		[ $merge = 1 ] && merge_target "$t"
	done
	return $fail
}

# Source coverage of the library by the committed corpus (no sanitizers:
# a build of its own with clang's profile instrumentation).
coverage() {
	local t bin dir
	check_toolchain
	command -v llvm-profdata >/dev/null && command -v llvm-cov >/dev/null ||
		die "coverage needs llvm-profdata and llvm-cov (Debian package: llvm)"
	for t in "${targets[@]}"; do
		dir=$out/cov-$t
		bin=$dir/fuzz_$t
		rm -rf "$dir"
		mkdir -p "$dir"
		"$CC" -std=c11 -D_GNU_SOURCE -O1 -g -fsanitize=fuzzer \
			-fprofile-instr-generate -fcoverage-mapping -I"$drv" \
			"$fdir/fuzz_$t.c" "${LIB_SRCS[@]}" -o "$bin" || die "coverage build of $t"
		# shellcheck disable=SC2046
		LLVM_PROFILE_FILE="$dir/%p.profraw" "$bin" $(target_args "$t") -runs=0 \
			"$fdir/corpus/$t" >"$dir/run.log" 2>&1 || die "corpus run of $t: $dir/run.log"
		llvm-profdata merge -sparse "$dir"/*.profraw -o "$dir/all.profdata" ||
			die "llvm-profdata failed"
		echo "fuzz.sh: coverage $t (corpus $(find "$fdir/corpus/$t" -type f | wc -l) inputs):"
		llvm-cov report "$bin" -instr-profile="$dir/all.profdata" "${LIB_SRCS[@]}" |
			sed 's|^drivers/net/vdevpeer/||'
		llvm-cov show "$bin" -instr-profile="$dir/all.profdata" -format=html \
			-output-dir="$dir/html" "${LIB_SRCS[@]}" >/dev/null 2>&1
	done
}

[ $# -ge 1 ] || usage
cmd=$1
shift
case $cmd in
list) all_targets ;;
build) parse_args "$@"; build "${targets[@]}" ;;
smoke) parse_args "$@"; smoke ;;
long) parse_args "$@"; long ;;
coverage) parse_args "$@"; coverage ;;
merge)
	parse_args "$@"
	build "${targets[@]}"
	for t in "${targets[@]}"; do merge_target "$t"; done
	;;
seeds)
	parse_args "$@"
	/usr/bin/env python3 "$fdir/seeds.py" "${targets[@]}"
	;;
-h | --help | help) usage ;;
*) usage ;;
esac
