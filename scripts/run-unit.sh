#!/bin/sh
# Run the cmocka unit test binaries; VALGRIND=1 runs each under valgrind (leaks are errors).
# Prints one closing line "unit: N passed, N failed".
set -u
build=$1; shift
top=$(cd "$(dirname "$0")/.." && pwd)
export EC2HA_TEST_DATA="$top/tests/data"
pass=0; fail=0
for t in "$@"; do
    if [ "${VALGRIND:-0}" = 1 ]; then
        valgrind -q --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite,indirect \
            --show-leak-kinds=definite,indirect "$t" && pass=$((pass+1)) || { echo "FAILED: $t"; fail=$((fail+1)); }
    else
        "$t" && pass=$((pass+1)) || { echo "FAILED: $t"; fail=$((fail+1)); }
    fi
done
echo "unit: $pass passed, $fail failed"
[ "$fail" = 0 ]
