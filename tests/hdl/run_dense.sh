#!/usr/bin/env bash
# Exports random Dense layers (dense_export: fixq::write_export plus the test
# bench's parameters read back from manifest.json) and runs tb_dense on each: one
# iverilog compile per layer, one vvp run that must print FIXQ_HDL_PASS.
#
#   run_dense.sh EXPORTER IVERILOG VVP RTL TB WORKDIR
# Exit status 0 when every layer passes; else the failures are listed.
set -euo pipefail
exporter=$1
iverilog=$2
vvp=$3
rtl=$4
tb=$5
work=$6

mkdir -p "$work"
"$exporter" "$work"
failed=()
total=0
while read -r config; do
  dir="$work/$config"
  mapfile -t params <"$dir/params.txt"
  mapfile -t plusargs <"$dir/plusargs.txt"
  "$iverilog" -g2012 -Wall -o "$dir/tb_dense.vvp" "${params[@]}" "$rtl" "$tb"
  log=$("$vvp" -n "$dir/tb_dense.vvp" "${plusargs[@]}" 2>&1) || true
  total=$((total + 1))
  if grep -q '^FIXQ_HDL_PASS' <<<"$log"; then
    grep '^checked' <<<"$log" | sed "s/^/$config: /" | head -1
  else
    echo "$config:"
    echo "$log"
    failed+=("$config")
  fi
done <"$work/configs.txt"

if [[ ${#failed[@]} -ne 0 ]]; then
  echo "FAIL: ${#failed[@]} of $total layers: ${failed[*]}"
  exit 1
fi
echo "PASS: $total layers"
