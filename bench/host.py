"""What machine a benchmark script ran on (shared by the Python benchmarks in bench/)."""
import os


def cpu_name():
    """The CPU's model name from /proc/cpuinfo, else the machine type."""
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return os.uname().machine
