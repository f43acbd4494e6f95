#!/bin/sh
# scripts/fuzz.sh -- check for and run the libFuzzer targets of tests/fuzz (docs/fuzzing.md).
#
#   need                     fail, naming the Debian package, when clang or libFuzzer is missing
#   run SECONDS TARGET...    fuzz each target for SECONDS over tests/fuzz/corpus/<name>/
#                            (with the dictionary tests/fuzz/<name>.dict, if there is one);
#                            new inputs go to build/fuzz/corpus/<name>/, crashes to
#                            build/fuzz/crashes/ (never into tests/: keep one by hand)
#   smoke SECONDS TARGET...  the same, briefly, for `make check`: a crash fails, naming the
#                            target and the input that crashed it
#
# Environment: FUZZ_CC (clang), FUZZ_ARGS (more libFuzzer options).
set -u

usage() {
    echo "usage: $0 need | run SECONDS TARGET... | smoke SECONDS TARGET..." >&2
    exit 2
}

need() {
    cc=${FUZZ_CC:-clang}
    if ! command -v "$cc" >/dev/null 2>&1; then
        echo "fuzz: $cc is missing: the Debian package clang (sh scripts/deps.sh test)" >&2
        exit 1
    fi
    lib=$("$cc" -print-file-name=libclang_rt.fuzzer-x86_64.a 2>/dev/null)
    case $lib in
        /*) [ -f "$lib" ] && return 0 ;;
    esac
    # the name alone means clang did not find it: look where Debian puts it
    for f in /usr/lib/llvm-*/lib/clang/*/lib/linux/libclang_rt.fuzzer-*.a; do
        [ -f "$f" ] && return 0
    done
    echo "fuzz: libFuzzer is missing: the Debian package libclang-rt-14-dev" \
         "(sh scripts/deps.sh test)" >&2
    exit 1
}

# fuzz_one MODE SECONDS TARGET - one target; 0 if it ran clean
fuzz_one() {
    name=$(basename "$3")
    seeds=tests/fuzz/corpus/$name
    found=build/fuzz/corpus/$name
    crashes=build/fuzz/crashes
    log=build/fuzz/log/$name.log
    dict=""
    [ -d "$seeds" ] || { echo "fuzz: $name has no seed corpus $seeds" >&2; return 1; }
    [ -f "tests/fuzz/$name.dict" ] && dict="-dict=tests/fuzz/$name.dict"
    mkdir -p "$found" "$crashes" build/fuzz/log
    # the first folder receives new inputs; the seeds are only read
    # shellcheck disable=SC2086  # FUZZ_ARGS is a list of options; dict is one or none
    "$3" -max_total_time="$2" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
        -artifact_prefix="$crashes/$name-" $dict ${FUZZ_ARGS:-} "$found" "$seeds" >"$log" 2>&1
    rc=$?
    runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
    if [ $rc -ne 0 ]; then
        input=$(sed -n 's/^.*Test unit written to //p' "$log" | tail -1)
        echo "fuzz: $name crashed (exit $rc) on ${input:-an input, see $log}:" >&2
        grep -m 20 -E 'ERROR|SUMMARY|runtime error|#[0-9]+ 0x' "$log" | head -20 >&2
        echo "fuzz: the whole log: $log" >&2
        return 1
    fi
    echo "  FUZZ    $name: ${runs:-?} runs in $2 s, no crash"
    return 0
}

[ $# -ge 1 ] || usage
mode=$1
shift
case $mode in
    need) need ;;
    run|smoke)
        [ $# -ge 2 ] || usage
        seconds=$1
        shift
        failed=""
        for t in "$@"; do
            fuzz_one "$mode" "$seconds" "$t" || failed="$failed $(basename "$t")"
        done
        if [ -n "$failed" ]; then
            echo "fuzz: crashed:$failed" >&2
            exit 1
        fi
        ;;
    *) usage ;;
esac
