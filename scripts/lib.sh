# Shared by scripts/*.sh (sourced, not run).

# The Debian packages a build needs.
FIXQ_PACKAGES=(g++ cmake make libeigen3-dev catch2 libbenchmark-dev zlib1g-dev nlohmann-json3-dev libcli11-dev)
# What some parts need besides the compiler: Icarus Verilog (the HDL tests), Python's
# headers, pybind11, numpy and pytest (the Python package and its tests), PyTorch (the
# importer and fixq.torch), ONNX (the ONNX importer). Without them those parts are skipped, unless
# FIXQ_REQUIRE_TOOLS=1 (CI), which makes their absence an error.
FIXQ_TOOL_PACKAGES=(iverilog python3-dev pybind11-dev python3-numpy python3-pytest python3-torch python3-onnx python3-venv
                    python3-pip python3-setuptools python3-wheel)

# cd to the repository root, wherever the script was started from.
fixq_cd_root() {
  cd "$(dirname "${BASH_SOURCE[0]}")/.."
}

# Install missing packages when root; otherwise print the command and exit 1.
# Arguments: the packages (default: FIXQ_PACKAGES).
fixq_ensure_packages() {
  local wanted=("$@")
  ((${#wanted[@]})) || wanted=("${FIXQ_PACKAGES[@]}")
  if ! command -v dpkg-query >/dev/null 2>&1; then
    echo "note: no dpkg (not Debian?); not checking packages. fixq needs a C++20 compiler," \
         "CMake >= 3.20, Eigen 3.4, nlohmann/json 3, CLI11 2, Catch2 v2 and Google Benchmark." >&2
    return 0
  fi
  local missing=() pkg
  for pkg in "${wanted[@]}"; do
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
