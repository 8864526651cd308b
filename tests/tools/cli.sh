#!/usr/bin/env bash
# The `fixq` tool end to end on the fixture of cli_fixture.cpp: every subcommand's
# output against the library's (byte for byte), the exported C headers compiled as
# C99 and C++ with -Wall -Wextra -Werror, and the exit status and message of each
# error case.
# Usage: cli.sh FIXQ CLI_FIXTURE CXX WORK_DIR
set -uo pipefail
fixq=$1 fixture=$2 cxx=$3 work=$4
rm -rf "$work" && mkdir -p "$work" && cd "$work" || exit 1
"$fixture" . || { echo "FAIL: the fixture"; exit 1; }

failures=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }
# expect STATUS TEXT CMD...: runs CMD, checks its exit status and that TEXT is in its output.
expect() {
  local want=$1 text=$2
  shift 2
  local out status
  out=$("$@" 2>&1)
  status=$?
  if [[ $status != "$want" ]]; then
    fail "'$*' exited $status, expected $want; output:"$'\n'"$out"
  elif [[ -n $text && $out != *"$text"* ]]; then
    fail "'$*' output lacks '$text':"$'\n'"$out"
  fi
}
same() { cmp -s "$1" "$2" || fail "$1 differs from $2"; }

# info
expect 0 "fixed point" "$fixq" info quant
expect 0 "fc/out" "$fixq" info quant/model.json
expect 0 "total: " "$fixq" info quant
expect 0 "float (no formats)" "$fixq" info float
expect 0 "preprocess x * 0.00392157" "$fixq" info quant

# run: each path equals the library's, in one batch or several
expect 0 "" "$fixq" run float raw.npy --path float -o float.npy && same float.npy expected_float.npy
expect 0 "" "$fixq" run quant raw.npy --path float -o float_q.npy && same float_q.npy expected_float.npy
expect 0 "" "$fixq" run quant raw.npy --path sim -o sim.npy && same sim.npy expected_sim.npy
expect 0 "" "$fixq" run quant raw.npy --path int --codes -o codes.npy && same codes.npy expected_codes.npy
expect 0 "" "$fixq" run quant raw.npy --path int --codes --batch 3 -o codes_b3.npy && same codes_b3.npy expected_codes.npy
# the int path's values are the sim path's, bit for bit
expect 0 "" "$fixq" run quant raw.npy --path int -o int_values.npy && same int_values.npy expected_sim.npy
expect 0 "" "$fixq" run quant input_codes.npy --path int --input-codes --codes -o codes_in.npy &&
  same codes_in.npy expected_codes.npy
expect 0 "" "$fixq" run quant raw.npy --path int --codes --all all -o codes_all.npy
for layer in conv1 relu1 bn sum pool flat fc_out; do
  [[ -f all/$layer.npy ]] || fail "--all wrote no all/$layer.npy"
done
same all/fc_out.npy expected_codes.npy

# verify, calibrate
expect 0 "bit-exact: 20 samples, 7 layers" "$fixq" verify quant raw.npy
expect 0 "bit-exact" "$fixq" verify quant raw.npy --batch 7
expect 0 "" "$fixq" calibrate float raw.npy --bits 6 --weight-bits 5 --per-channel -o cal6
expect 0 "bit-exact: 20 samples" "$fixq" verify cal6 raw.npy
expect 0 "u6." "$fixq" info cal6  # the raw pixels are >= 0: an unsigned input format
expect 0 "" "$fixq" calibrate quant raw.npy --bits 8 --method OverflowRate --overflow-rate 0.01 -o cal8
expect 0 "bit-exact" "$fixq" verify cal8 raw.npy
expect 0 "" "$fixq" calibrate quant raw.npy --bits 8 --method MinMSE --count 5 -o cal8m
expect 0 "bit-exact" "$fixq" verify cal8m raw.npy --seed 3

# export: the manifest, and every C header compiles as C99 and C++ and holds the codes
expect 0 "golden vectors for 4 inputs" "$fixq" export quant raw.npy -o exp --count 4
[[ -f exp/manifest.json && -f exp/input.hex && -f exp/fc_out.weight.hex && -f exp/fc_out.output.h ]] ||
  fail "export files missing: $(ls exp | head -5)"
{
  for h in exp/*.h; do echo "#include \"$h\""; done
  echo "int main(void) {"
  echo "  long long s = 0;"
  for h in exp/*.h; do
    id=$(sed -n 's/^static const [a-z0-9_]* \([A-Za-z0-9_]*\)\[.*/\1/p' "$h")
    echo "  for (unsigned i = 0; i < sizeof $id / sizeof $id[0]; ++i) s += $id[i];"
  done
  echo "  return (int)(s & 1) + (FC_OUT_OUTPUT_SIZE == 20 ? 0 : 2) + (INPUT_DIM0 == 4 ? 0 : 4);"
  echo "}"
} >headers.c
"$cxx" -x c -std=c99 -pedantic -Wall -Wextra -Werror headers.c -o headers_c || fail "the headers do not compile as C99"
"$cxx" -x c++ -std=c++17 -pedantic -Wall -Wextra -Werror headers.c -o headers_cpp ||
  fail "the headers do not compile as C++"
# (the exit status is the parity of the sum of all codes plus the shape checks)
if [[ -x headers_c && -x headers_cpp ]]; then
  ./headers_c; c=$?
  ./headers_cpp; cpp=$?
  [[ $c == "$cpp" && $c -lt 2 ]] || fail "the headers' program exited $c (C) and $cpp (C++)"
fi

# bench
expect 0 "ratios: int / float" "$fixq" bench quant --batch 4 --repeat 2
expect 0 "samples/s" "$fixq" bench float --batch 4 --repeat 1

# help and version
expect 0 "calibrate" "$fixq" --help
expect 0 "fixq" "$fixq" --version

# errors: exit status 2, the file (and layer) named, never a crash
expect 2 "nothing: cannot open the file" "$fixq" info nothing
printf '{"fixq_model": 1, "input": ' >broken.json
expect 2 "broken.json: not valid JSON" "$fixq" info broken.json
sed 's/"Dense"/"Dense3D"/' quant/model.json >quant/unknown.json
expect 2 "layer 'fc/out': unknown layer type \"Dense3D\"" "$fixq" info quant/unknown.json
expect 2 "pool.npy: has shape (20, 4, 4, 4); the model takes (N, 8, 8, 1)" "$fixq" run quant all/pool.npy --path float -o x.npy
expect 2 "has shape" "$fixq" verify quant all/pool.npy
expect 2 "a float model (no formats)" "$fixq" run float raw.npy --path int -o x.npy
expect 2 "a float model (no formats)" "$fixq" verify float raw.npy
expect 2 "a float model (no formats)" "$fixq" export float raw.npy -o x
expect 2 "--codes needs --path int" "$fixq" run quant raw.npy --path sim --codes -o x.npy
expect 2 "bad_codes.npy: code 256 at element 5 is outside the input format UFixed<8,8>" \
  "$fixq" run quant bad_codes.npy --path int --input-codes -o x.npy
expect 2 "x_float.npy: holds float32; --input-codes needs integer codes" "$fixq" run quant x_float.npy --path int --input-codes -o x.npy
head -c 100 raw.npy >cut.npy
expect 2 "cut.npy: truncated" "$fixq" run quant cut.npy --path float -o x.npy
expect 2 "float" "$fixq" run quant raw.npy --path double -o x.npy
expect 2 "" "$fixq" run quant raw.npy -o x.npy
expect 2 "" "$fixq" frobnicate
expect 2 "" "$fixq"
expect 2 "--bits" "$fixq" calibrate quant raw.npy --bits 30 -o x
expect 2 "--overflow-rate needs --method OverflowRate" "$fixq" calibrate quant raw.npy --bits 8 --overflow-rate 0.1 -o x
expect 2 "nothing.npy: cannot open" "$fixq" verify quant nothing.npy

if ((failures)); then
  echo "$failures failure(s)"
  exit 1
fi
echo "PASS: fixq tool"
