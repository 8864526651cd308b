#!/usr/bin/env bash
# Runs tb_requantize_exhaustive for a set of configurations: for each one, the
# vectors from requantize_vectors (fixq's scalar core), one iverilog compile with
# the configuration as parameters, one vvp run that must print FIXQ_HDL_PASS.
#
#   run_requantize.sh --gen EXE --iverilog EXE --vvp EXE --rtl FILE --tb FILE --work DIR
#                     --acc ACC_W --out OUT_W --signed LIST --shifts MIN:MAX
#                     [--rounds LIST] [--overflows LIST] [--bounds MAX_LSHIFT:MAX_RSHIFT]
#
# LIST is comma-separated; --rounds defaults to 0..8 (every deterministic fixq::Round),
# --overflows to 0..3 (every fixq::Overflow but Throw); --bounds to the module's
# defaults. Every (signed, round, overflow) combination is one configuration.
# Exit status 0 when every configuration passes; else the failures are listed.
set -euo pipefail

rounds=0,1,2,3,4,5,6,7,8
overflows=0,1,2,3
bounds=-1:-1
while [[ $# -gt 0 ]]; do
  case "$1" in
    --gen) gen=$2 ;;
    --iverilog) iverilog=$2 ;;
    --vvp) vvp=$2 ;;
    --rtl) rtl=$2 ;;
    --tb) tb=$2 ;;
    --work) work=$2 ;;
    --acc) acc_w=$2 ;;
    --out) out_w=$2 ;;
    --signed) signeds=$2 ;;
    --shifts) shifts=$2 ;;
    --rounds) rounds=$2 ;;
    --overflows) overflows=$2 ;;
    --bounds) bounds=$2 ;;
    *) echo "run_requantize.sh: unknown argument $1" >&2; exit 2 ;;
  esac
  shift 2
done

round_names=(Floor Ceil TowardZero NearestTiesToPosInf NearestTiesToNegInf NearestAway
             NearestTiesToZero NearestEven NearestOdd)
overflow_names=(Saturate SaturateSymmetric SaturateZero Wrap)
shift_w=8
shift_min=${shifts%%:*}
shift_max=${shifts##*:}
max_lshift=${bounds%%:*}
max_rshift=${bounds##*:}
top=tb_requantize_exhaustive

mkdir -p "$work"
configs=0
failed=()
for s in ${signeds//,/ }; do
  for r in ${rounds//,/ }; do
    for o in ${overflows//,/ }; do
      name="acc${acc_w}_out${out_w}_s${s}_${round_names[$r]}_${overflow_names[$o]}"
      vectors="$work/$name.hex"
      sim="$work/$name.vvp"
      "$gen" "$acc_w" "$out_w" "$s" "$r" "$o" "$shift_w" "$shift_min" "$shift_max" "$vectors" >/dev/null
      "$iverilog" -g2012 -Wall -o "$sim" \
        -P$top.ACC_W="$acc_w" -P$top.OUT_W="$out_w" -P$top.OUT_SIGNED="$s" \
        -P$top.ROUND="$r" -P$top.OVERFLOW="$o" -P$top.SHIFT_W=$shift_w \
        -P$top.SHIFT_MIN="$shift_min" -P$top.SHIFT_MAX="$shift_max" \
        -P$top.MAX_LSHIFT="$max_lshift" -P$top.MAX_RSHIFT="$max_rshift" \
        "$rtl" "$tb"
      log=$("$vvp" -n "$sim" +vectors="$vectors" 2>&1) || true
      configs=$((configs + 1))
      if grep -q '^FIXQ_HDL_PASS' <<<"$log"; then
        grep '^checked' <<<"$log" | sed "s/^/$name: /" | head -1
        rm -f "$vectors" "$sim"
      else
        echo "$name:"
        echo "$log"
        failed+=("$name")
      fi
    done
  done
done

if [[ ${#failed[@]} -ne 0 ]]; then
  echo "FAIL: ${#failed[@]} of $configs configurations: ${failed[*]}"
  exit 1
fi
echo "PASS: $configs configurations"
