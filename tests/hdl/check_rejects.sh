#!/usr/bin/env bash
# hdl/fixq_requantize.sv must refuse, at elaboration, the modes it does not
# implement (Stochastic rounding, Throw overflow) and out-of-range mode numbers,
# with an error naming the problem; and it must elaborate the supported extremes
# (the control: a broken compile command would otherwise "reject" everything).
#
#   check_rejects.sh IVERILOG RTL WORKDIR
set -uo pipefail
iverilog=$1
rtl=$2
work=$3
mkdir -p "$work"
status=0

# compile ROUND OVERFLOW: prints the compiler's output, returns its status.
compile() {
  "$iverilog" -g2012 -o "$work/rejects.vvp" -s fixq_requantize \
    -Pfixq_requantize.ROUND="$1" -Pfixq_requantize.OVERFLOW="$2" "$rtl" 2>&1
}

expect_rejected() {  # ROUND OVERFLOW FRAGMENT
  local out
  if out=$(compile "$1" "$2"); then
    echo "FAIL: ROUND=$1 OVERFLOW=$2 elaborated; it must be refused"
    status=1
  elif ! grep -q "$3" <<<"$out"; then
    echo "FAIL: ROUND=$1 OVERFLOW=$2 refused without naming the problem ($3):"
    echo "$out"
    status=1
  else
    echo "ok: ROUND=$1 OVERFLOW=$2 refused: $(grep -m1 "$3" <<<"$out")"
  fi
}

expect_accepted() {  # ROUND OVERFLOW
  local out
  if ! out=$(compile "$1" "$2"); then
    echo "FAIL: ROUND=$1 OVERFLOW=$2 must elaborate:"
    echo "$out"
    status=1
  else
    echo "ok: ROUND=$1 OVERFLOW=$2 elaborates"
  fi
}

expect_accepted 0 0
expect_accepted 8 3
expect_rejected 9 0 ROUND_must_be_0_to_8_stochastic_is_not_supported
expect_rejected -1 0 ROUND_must_be_0_to_8_stochastic_is_not_supported
expect_rejected 7 4 OVERFLOW_must_be_0_to_3_throw_is_not_supported
expect_rejected 7 -1 OVERFLOW_must_be_0_to_3_throw_is_not_supported

if [[ $status -eq 0 ]]; then echo "PASS"; else echo "FAIL"; fi
exit $status
