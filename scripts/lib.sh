# Shared by scripts/*.sh (sourced, not run).

# The Debian packages a build needs.
FIXQ_PACKAGES=(g++ cmake make libeigen3-dev catch2 libbenchmark-dev zlib1g-dev)

# cd to the repository root, wherever the script was started from.
fixq_cd_root() {
  cd "$(dirname "${BASH_SOURCE[0]}")/.."
}

# Install missing packages when root; otherwise print the command and exit 1.
fixq_ensure_packages() {
  if ! command -v dpkg-query >/dev/null 2>&1; then
    echo "note: no dpkg (not Debian?); not checking packages. fixq needs a C++20 compiler," \
         "CMake >= 3.20, Eigen 3.4, Catch2 v2 and Google Benchmark (else CMake downloads them)." >&2
    return 0
  fi
  local missing=() pkg
  for pkg in "${FIXQ_PACKAGES[@]}"; do
    if [[ $(dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null) != "install ok installed" ]]; then
      missing+=("$pkg")
    fi
  done
  if ((${#missing[@]} == 0)); then
    return 0
  fi
  if [[ $(id -u) -eq 0 ]]; then
    echo "installing missing packages: ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update
    apt-get install -y --no-install-recommends "${missing[@]}"
  else
    echo "missing packages: ${missing[*]}; install them with:" >&2
    echo "  sudo apt-get install -y ${missing[*]}" >&2
    exit 1
  fi
}
