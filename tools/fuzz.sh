#!/bin/sh
# SPDX-License-Identifier: MIT
# Builds the libFuzzer targets of tests/fuzz with clang (ASan + UBSan) and runs each for SECONDS
# (default 60), printing per target its executions, its coverage (libFuzzer cov: edges) and what
# this run added (+cov, +inputs: new corpus units); exits non-zero when
# any target found a crash, a leak or a sanitizer report (the input is kept, see the output).
# Usage: tools/fuzz.sh [SECONDS] [TARGET-REGEX]
# Environment: PAIRGATE_FUZZ_JOBS=N runs N targets at a time (default 1); PAIRGATE_FUZZ_BUILD
# is the build directory (default build-fuzz). The working corpus of each target is kept in
# BUILD/fuzz-corpus/TARGET between runs; the seeds in tests/fuzz/corpus/TARGET are only read.
# See docs/fuzzing.md.
set -eu
cd "$(dirname "$0")/.."

secs=${1:-60}
filter=${2:-.}
build=${PAIRGATE_FUZZ_BUILD:-build-fuzz}
jobs=${PAIRGATE_FUZZ_JOBS:-1}
case "$secs" in '' | *[!0-9]*) echo "usage: tools/fuzz.sh [SECONDS] [TARGET-REGEX]" >&2; exit 2 ;; esac

command -v clang >/dev/null 2>&1 || tools/install-deps.sh build test
CC=clang cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Debug -DPAIRGATE_FUZZ=ON \
        -DPAIRGATE_TEST_POLICIES=ON -DPAIRGATE_WERROR=ON >/dev/null
cmake --build "$build" -j"$(nproc)" >/dev/null

src=$(pwd)/tests/fuzz
bin=$(pwd)/$build/tests/fuzz
out=$(pwd)/$build/fuzz-runs
mkdir -p "$out"
export G_SLICE=always-malloc G_DEBUG=fatal-criticals
# libconfig's own lexer leaks a token on some syntax errors (not pairgate's memory; see
# tests/fuzz/lsan.supp).
export LSAN_OPTIONS="suppressions=$src/lsan.supp:print_suppressions=0"
export ASAN_OPTIONS="detect_leaks=1:abort_on_error=0"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
command -v llvm-symbolizer >/dev/null 2>&1 || export ASAN_SYMBOLIZER_PATH=/usr/bin/llvm-symbolizer-14

targets=$(cd "$bin" && ls fuzz-* | grep -E "$filter" || true)
[ -n "$targets" ] || { echo "fuzz: no target matches '$filter'" >&2; exit 2; }

run_one() {
        t=$1
        corpus=$(pwd)/$build/fuzz-corpus/$t
        artifacts=$out/$t-artifacts
        mkdir -p "$corpus" "$artifacts"
        dict=""
        [ -f "$src/$t.dict" ] && dict="-dict=$src/$t.dict"
        # stderr of the target (audit lines) closed: libFuzzer and sanitizers still report.
        # shellcheck disable=SC2086
        "$bin/$t" -max_total_time="$secs" -timeout=25 -rss_limit_mb=4096 -max_len=4096 \
                -close_fd_mask=2 -print_final_stats=1 -artifact_prefix="$artifacts/" $dict \
                "$corpus" "$src/corpus/$t" >"$out/$t.log" 2>&1
        echo $? >"$out/$t.rc"
}

start=$(date +%s)
running=0
for t in $targets; do
        rm -rf "$out/$t.rc" "$out/$t.log" "$out/$t-artifacts"
        run_one "$t" &
        running=$((running + 1))
        if [ "$running" -ge "$jobs" ]; then
                wait
                running=0
        fi
done
wait

status=0
printf '%-20s %11s %7s %6s %6s %7s  %s\n' target executions exec/s cov +cov +inputs result
for t in $targets; do
        log=$out/$t.log
        rc=$(cat "$out/$t.rc" 2>/dev/null || echo 1)
        execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
        rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)
        init=$(sed -n 's/.*INITED cov: \([0-9]*\).*/\1/p' "$log" | head -1)
        final=$(sed -n 's/.* cov: \([0-9]*\).*/\1/p' "$log" | tail -1)
        units=$(sed -n 's/^stat::new_units_added: *//p' "$log" | tail -1)
        result=ok
        # libFuzzer keeps its slowest input too (slow-unit-*): reported, not a failure.
        if [ -n "$(ls "$out/$t-artifacts" | grep '^slow-unit-')" ]; then
                result="ok (slowest input: $(sed -n 's/^stat::slowest_unit_time_sec: *//p' "$log" | tail -1) s, kept)"
        fi
        if [ "$rc" != 0 ] || grep -qE 'ERROR: (AddressSanitizer|LeakSanitizer|libFuzzer)|runtime error:|property violated' "$log" ||
                [ -n "$(ls "$out/$t-artifacts" | grep -E '^(crash|leak|timeout|oom)-')" ]; then
                result="FAILED (exit $rc): see $log and $out/$t-artifacts/"
                status=1
        fi
        printf '%-20s %11s %7s %6s %6s %7s  %s\n' "$t" "${execs:-?}" "${rate:-?}" "${final:-?}" \
                "$(( ${final:-0} - ${init:-0} ))" "${units:-?}" "$result"
done
echo "fuzz: $secs s per target, $(( $(date +%s) - start )) s in all (logs: $out)"
exit $status
