"""Builds the extension module fixq._core for pip (metadata: pyproject.toml).

    pip install --no-build-isolation --no-index .

The sources are python/src/*.cpp (as in the CMake build, python/CMakeLists.txt), compiled
side by side on every core. Environment:
  FIXQ_PORTABLE=1      no -march=native (the module then runs on any x86-64, without
                       the AVX2 / AVX-512 kernels)
  EIGEN3_INCLUDE_DIR   Eigen's headers (default: /usr/include/eigen3)
"""

import glob
import os
from concurrent.futures import ThreadPoolExecutor

from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext

HERE = os.path.dirname(os.path.abspath(__file__))


def pybind11_include():
    try:
        import pybind11
        return pybind11.get_include()
    except ImportError:  # Debian's pybind11-dev alone: /usr/include/pybind11
        return "/usr/include"


class ParallelBuildExt(build_ext):
    """build_ext that compiles an extension's sources in parallel (setuptools: one by one)."""

    def build_extension(self, ext):
        compile_one = self.compiler.compile

        def compile_all(sources, *args, **kwargs):
            jobs = max(1, min(len(sources), os.cpu_count() or 1))
            with ThreadPoolExecutor(jobs) as pool:
                parts = pool.map(lambda s: compile_one([s], *args, **kwargs), sources)
                return [obj for objs in parts for obj in objs]

        self.compiler.compile = compile_all
        try:
            super().build_extension(ext)
        finally:
            self.compiler.compile = compile_one


flags = ["-std=c++20", "-O2", "-g0", "-fopenmp", "-fvisibility=hidden"]
if os.environ.get("FIXQ_PORTABLE", "0") in ("", "0"):
    flags.append("-march=native")

core = Extension(
    "fixq._core",
    sources=sorted(os.path.relpath(p, HERE) for p in glob.glob(os.path.join(HERE, "python", "src", "*.cpp"))),
    include_dirs=[os.path.join(HERE, "include"), pybind11_include(),
                  os.environ.get("EIGEN3_INCLUDE_DIR", "/usr/include/eigen3")],
    define_macros=[("FIXQ_SEPARATE_KERNELS", None)],
    extra_compile_args=flags,
    extra_link_args=["-fopenmp"],
    libraries=["z"],
    language="c++",
)

setup(
    package_dir={"": "python"},
    packages=["fixq"],
    ext_modules=[core],
    cmdclass={"build_ext": ParallelBuildExt},
)
