#!/usr/bin/env python3
"""PyTorch -> fixq model folder: the command line of fixq.torch's importer.

    python3 python/fixq_torch.py lenet.pt lenet_fixq --input-shape 1,28,28

The importer lives in the package (fixq/_torch_import.py; from Python:
fixq.torch.export_model). This script loads it by path, so it runs from a source
tree where the package's C++ module has not been built.
"""

import importlib.util
import os
import sys

_path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "fixq", "_torch_import.py")
_spec = importlib.util.spec_from_file_location("fixq_torch_import", _path)
_module = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_module)
export_model = _module.export_model
__all__ = ["export_model"]

if __name__ == "__main__":
    sys.exit(_module.main())
