#!/usr/bin/env bash
# The `fixq` tool end to end on the fixture of cli_fixture.cpp: every subcommand's
# output against the library's (byte for byte), the exported C headers compiled as
# C99 and C++ with -Wall -Wextra -Werror, and the exit status and message of each
# error case: hostile files and arguments are refused before anything is written
# (exit status 2, the file or sample named, no file destroyed or half-written).
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

# Stochastic rounding everywhere: the noise is keyed by the sample's index in the
# whole input, so any batch size gives the same bits (and the int path equals sim).
cp -r quant stoch && sed -i -e 's/"round": "[A-Za-z]*"/"round": "Stochastic"/g' \
  -e 's/"fixq_model": 1,/"fixq_model": 1, "seed": 5,/' stoch/model.json
expect 0 "" "$fixq" run stoch raw.npy --path int --codes -o st_whole.npy --batch 1000
expect 0 "" "$fixq" run stoch raw.npy --path int --codes -o st_b3.npy --batch 3
same st_whole.npy st_b3.npy
expect 0 "" "$fixq" run stoch raw.npy --path sim -o st_sim_b1.npy --batch 1
expect 0 "" "$fixq" run stoch raw.npy --path int -o st_int_b7.npy --batch 7
same st_sim_b1.npy st_int_b7.npy
expect 0 "bit-exact: 20 samples" "$fixq" verify stoch raw.npy --batch 2
cmp -s st_whole.npy codes.npy && fail "stochastic rounding changed no code"
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
expect 2 "nothing: cannot open the model file: No such file or directory" "$fixq" info nothing
printf '{"fixq_model": 1, "input": ' >broken.json
expect 2 "broken.json: not valid JSON" "$fixq" info broken.json
sed 's/"Dense"/"Dense3D"/' quant/model.json >quant/unknown.json
expect 2 "layer 'fc/out': unknown layer type \"Dense3D\"" "$fixq" info quant/unknown.json
expect 2 "pool.npy: has shape (20, 4, 4, 4); the model takes (N, 8, 8, 1)" "$fixq" run quant all/pool.npy --path float -o x.npy
expect 2 "has shape" "$fixq" verify quant all/pool.npy
expect 2 "a float model (no formats)" "$fixq" run float raw.npy --path int -o x.npy
expect 2 "a float model (no formats)" "$fixq" verify float raw.npy
expect 2 "a float model (no formats)" "$fixq" export float raw.npy -o x
# export into a folder that holds files: refused (the files untouched) unless --force
mkdir -p own && echo mine > own/input.npy
expect 2 "not empty" "$fixq" export quant raw.npy -o own --count 2
[[ $(cat own/input.npy) == mine && $(ls own | wc -l) == 1 ]] || fail "export changed a folder that holds files"
expect 0 "golden vectors for 2 inputs" "$fixq" export quant raw.npy -o own --count 2 --force
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

# Inputs as numpy stores them: Fortran order, big-endian; whole and in batches.
expect 0 "" "$fixq" run quant raw_fortran.npy --path int --codes -o codes_f.npy && same codes_f.npy expected_codes.npy
expect 0 "" "$fixq" run quant raw_fortran.npy --path sim --batch 3 -o sim_f.npy && same sim_f.npy expected_sim.npy
expect 0 "" "$fixq" run quant raw_big_fortran.npy --path sim --batch 7 -o sim_bf.npy && same sim_bf.npy expected_sim.npy
expect 0 "bit-exact: 20 samples" "$fixq" verify quant raw_big_fortran.npy --batch 6

# sum FILE...: checksums, to show that a refused or failed run changed nothing.
sums() { cksum "$@" 2>&1; }
# no_temporaries DIR: no temporary of an atomic write is left in DIR.
no_temporaries() {
  local left
  left=$(find "$1" -maxdepth 1 -name '.*.tmp-*' | head -3)
  [[ -z $left ]] || fail "temporaries left in $1: $left"
}
before=$(sums raw.npy quant/model.json)

# Not regular files, refused before opening: a FIFO would block the reader forever.
mkfifo fifo.npy fifo.json
mkdir -p fifo_model && mkfifo fifo_model/model.json
expect 2 "fifo.npy: is a FIFO, not a regular file" timeout 20 "$fixq" run quant fifo.npy --path float -o x.npy
expect 2 "fifo.npy: is a FIFO, not a regular file" timeout 20 "$fixq" verify quant fifo.npy
expect 2 "fifo.npy: is a FIFO, not a regular file" timeout 20 "$fixq" calibrate quant fifo.npy --bits 8 -o x
expect 2 "fifo.npy: is a FIFO, not a regular file" timeout 20 "$fixq" export quant fifo.npy -o x
expect 2 "fifo.json: is a FIFO, not a regular file" timeout 20 "$fixq" info fifo.json
expect 2 "fifo_model/model.json: is a FIFO, not a regular file" timeout 20 "$fixq" info fifo_model
expect 2 "/dev/null: is a character device, not a regular file" "$fixq" run quant /dev/null --path float -o x.npy
expect 2 "quant: is a folder, not a regular file" "$fixq" run quant quant --path float -o x.npy
expect 2 "empty_model/model.json: cannot open the model file: No such file or directory" \
  bash -c 'mkdir -p empty_model && "$0" info empty_model' "$fixq"
# a weight file that is a FIFO (the library's reader checks too)
cp -r quant fifo_weights && rm fifo_weights/conv1_w.npy && mkfifo fifo_weights/conv1_w.npy
expect 2 "conv1_w.npy: is a FIFO, not a regular file" timeout 20 "$fixq" info fifo_weights
[[ ! -e x.npy && ! -e x ]] || fail "a refused command wrote x.npy or x/"

# An output that is an input, under any name: refused before anything is written.
ln -sf raw.npy raw_link.npy
ln -f raw.npy raw_hard.npy
expect 2 "raw.npy: is the input file raw.npy" "$fixq" run quant raw.npy --path float -o raw.npy
expect 2 "./raw.npy: is the input file raw.npy" "$fixq" run quant raw.npy --path float -o ./raw.npy
expect 2 "raw_link.npy: is the input file raw.npy" "$fixq" run quant raw.npy --path float -o raw_link.npy
expect 2 "raw_hard.npy: is the input file raw.npy" "$fixq" run quant raw.npy --path float -o raw_hard.npy
expect 2 "quant/model.json: is the model file" "$fixq" run quant raw.npy --path float -o quant/model.json
mkdir -p all_in && cp raw.npy all_in/relu1.npy && in_before=$(sums all_in/relu1.npy)
expect 2 "all_in/relu1.npy: is the input file all_in/relu1.npy" \
  "$fixq" run quant all_in/relu1.npy --path float --all all_in -o all_in_out.npy
[[ $(sums all_in/relu1.npy) == "$in_before" && ! -e all_in_out.npy && ! -e all_in/conv1.npy ]] ||
  fail "a refused --all run changed all_in/ or wrote all_in_out.npy"
expect 2 "all_out/fc_out.npy: is also --all's file of layer 'fc/out'" \
  "$fixq" run quant raw.npy --path float --all all_out -o all_out/fc_out.npy
expect 2 "is also --all's file of layer 'fc/out'" \
  "$fixq" run quant raw.npy --path float --all all_out -o all_out/../all_out/fc_out.npy
[[ ! -e all_out ]] || fail "a refused run created all_out/"
# calibrate's and export's folders over their inputs
cp -r float float_copy && float_before=$(sums float_copy/*)
expect 2 "float_copy/model.json: is the model file, and writing float_copy could replace it" \
  "$fixq" calibrate float_copy raw.npy --bits 8 -o float_copy
mkdir -p cal_in && cp raw.npy cal_in/conv1_w.npy
expect 2 "cal_in/conv1_w.npy: is the data file" "$fixq" calibrate float cal_in/conv1_w.npy --bits 8 -o cal_in
mkdir -p exp_in && cp raw.npy exp_in/input.npy && cp raw.npy exp_in/conv1.output.npy
expect 2 "exp_in/input.npy: is the input file" "$fixq" export quant exp_in/input.npy -o exp_in
expect 2 "exp_in/conv1.output.npy: is the input file" "$fixq" export quant exp_in/conv1.output.npy -o exp_in
[[ $(sums float_copy/*) == "$float_before" && $(ls cal_in) == conv1_w.npy && $(ls exp_in | wc -l) == 2 ]] ||
  fail "a refused calibrate or export changed its folder"
# two layers whose files differ only in case
mkdir -p case_model && cp quant/*.npy case_model/ && sed 's/"relu1"/"Conv1"/g' quant/model.json >case_model/model.json
expect 2 "layer 'conv1' and layer 'Conv1' would both write conv1.npy" \
  "$fixq" run case_model raw.npy --path float --all case_all -o case.npy

# A run that fails half-way (a value float32 cannot hold, in the second sample)
# leaves no output and keeps the previous ones.
cp expected_codes.npy keep.npy && mkdir -p keep_all && cp expected_codes.npy keep_all/fc_out.npy
kept=$(sums keep.npy keep_all/fc_out.npy)
expect 2 "huge.npy: sample 1, element 28 of (8, 8, 1): value 1e+300 preprocessed" \
  "$fixq" run quant huge.npy --path float --batch 1 --all keep_all -o keep.npy
[[ $(sums keep.npy keep_all/fc_out.npy) == "$kept" && ! -e keep_all/conv1.npy ]] ||
  fail "a failed run changed keep.npy or keep_all/"
no_temporaries . && no_temporaries keep_all
expect 2 "huge.npy: sample 1, element 28" "$fixq" verify quant huge.npy
expect 2 "huge.npy: sample 1, element 28" "$fixq" calibrate float huge.npy --bits 8 -o huge_cal
[[ ! -e huge_cal ]] || fail "a failed calibrate wrote huge_cal/"
expect 2 "empty.npy: no samples" "$fixq" calibrate float empty.npy --bits 8 -o empty_cal
expect 2 "empty.npy: no samples" "$fixq" export quant empty.npy -o empty_exp
# outputs the system refuses: its reason
expect 2 "no_dir/x.npy: cannot create the file: No such file or directory" "$fixq" run quant raw.npy --path float -o no_dir/x.npy
[[ -e /dev/full ]] && expect 2 "/dev/full: write error: No space left on device" "$fixq" run quant raw.npy --path float -o /dev/full
expect 0 "wrote /dev/null" "$fixq" run quant raw.npy --path float -o /dev/null

# Numbers: out of range or not whole numbers are errors, never clamped or wrapped.
for b in 0 -1 1e20 2147483648 1.5 x ""; do
  expect 2 "--batch: expected a whole number from 1" "$fixq" run quant raw.npy --path float --batch "$b" -o x.npy
  expect 2 "--batch: expected a whole number from 1" "$fixq" verify quant raw.npy --batch "$b"
done
for s in -1 18446744073709551616 1e23 0x10 +1 " 1"; do
  expect 2 "--seed: expected a whole number from 0 to 18446744073709551615, got '$s'" \
    "$fixq" run quant raw.npy --path float --seed "$s" -o x.npy
done
expect 0 "" "$fixq" verify quant raw.npy --seed 18446744073709551615
for c in 0 -5 1e3; do
  expect 2 "--count: expected a whole number from 1" "$fixq" calibrate quant raw.npy --bits 8 --count "$c" -o x
  expect 2 "--count: expected a whole number from 1" "$fixq" export quant raw.npy --count "$c" -o x
done
expect 2 "--batch: expected a whole number from 1 to 1048576" "$fixq" bench quant --batch 0
expect 2 "--repeat: expected a whole number from 1 to 1000" "$fixq" bench quant --repeat 1001
expect 2 "--max-memory: expected a number of bytes" "$fixq" run quant raw.npy --path float --max-memory 0 -o x.npy
expect 2 "FIXQ_MAX_MEMORY: expected a number of bytes" env FIXQ_MAX_MEMORY=lots "$fixq" info quant
expect 2 "unknown subcommand 'frobnicate'" "$fixq" frobnicate quant
[[ ! -e x.npy && ! -e x ]] || fail "a refused command wrote x.npy or x/"

# Memory: a 300-byte model whose one layer outputs 46001 x 46001 values per sample
# (a 1x1 convolution with padding 23000 on a 1x1x1 input) fails cleanly.
mkdir -p padded && cp one.npy padded/w.npy
printf '%s' '{"fixq_model": 1, "input": {"shape": [1, 1, 1]}, "layers": [{"name": "pad", "type": "Conv2D",' \
  ' "weights": "w.npy", "padding": [23000, 23000, 23000, 23000]}]}' >padded/model.json
expect 0 "(46001, 46001, 1)" "$fixq" info padded
expect 2 "padded/model.json: one sample needs about 7.9 GiB (layer 'pad' alone: output (46001, 46001, 1), 7.9 GiB)" \
  "$fixq" run padded one.npy --path float -o padded_out.npy
expect 2 "layer 'pad' alone" "$fixq" calibrate padded one.npy --bits 8 -o padded_cal
expect 2 "layer 'pad' alone" "$fixq" bench padded --batch 1
expect 2 "more than the memory limit of 1024 bytes" env FIXQ_MAX_MEMORY=1K "$fixq" run quant raw.npy --path float -o x.npy
[[ ! -e padded_out.npy && ! -e padded_cal && ! -e x.npy ]] || fail "a refused run wrote a file"
# the batch shrinks to fit, with the same results
expect 0 "using batches of 1" "$fixq" run quant raw.npy --path int --codes --max-memory 10K -o codes_small.npy &&
  same codes_small.npy expected_codes.npy
expect 2 "use --count" "$fixq" calibrate quant raw.npy --bits 8 --max-memory 10K -o cal_small

# Random hostile paths: existing files, links, hard links, FIFOs, folders and missing
# names as input and output, in random pairs. Each run either succeeds (the input
# unchanged, the output equal to the expected one) or exits 2 having changed nothing.
mkdir -p walk && cp raw.npy walk/a.npy && cp raw.npy walk/b.npy
ln -sf a.npy walk/link_a.npy && ln -f walk/b.npy walk/hard_b.npy && ln -sf nothing.npy walk/dangling.npy
mkfifo walk/fifo.npy && mkdir -p walk/dir.npy
names=(a.npy b.npy link_a.npy hard_b.npy dangling.npy fifo.npy dir.npy missing.npy ./a.npy ../walk/b.npy)
RANDOM=7
for ((i = 0; i < 40; i++)); do
  in=walk/${names[RANDOM % ${#names[@]}]} out=walk/${names[RANDOM % ${#names[@]}]}
  [[ $out == */fifo.npy ]] && continue  # a FIFO output waits for a reader, as with any program
  state=$(cd walk && cksum a.npy b.npy; ls -a)
  out_text=$(timeout 20 "$fixq" run quant "$in" --path int --codes -o "$out" 2>&1)
  status=$?
  if [[ $status == 0 ]]; then
    cmp -s "$out" expected_codes.npy || fail "walk: run $in -o $out wrote a wrong $out"
    # put the pool back as it was
    rm -rf walk/a.npy walk/b.npy walk/hard_b.npy walk/link_a.npy walk/dangling.npy walk/missing.npy walk/nothing.npy
    cp raw.npy walk/a.npy && cp raw.npy walk/b.npy && ln -f walk/b.npy walk/hard_b.npy
    ln -sf a.npy walk/link_a.npy && ln -sf nothing.npy walk/dangling.npy
  elif [[ $status == 2 ]]; then
    [[ $(cd walk && cksum a.npy b.npy; ls -a) == "$state" ]] || fail "walk: the refused run $in -o $out changed walk/"
  else
    fail "walk: run $in -o $out exited $status: $out_text"
  fi
  no_temporaries walk
done

[[ $(sums raw.npy quant/model.json) == "$before" ]] || fail "raw.npy or quant/model.json changed"

if ((failures)); then
  echo "$failures failure(s)"
  exit 1
fi
echo "PASS: fixq tool"
