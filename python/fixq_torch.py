#!/usr/bin/env python3
"""PyTorch -> fixq model folder: the command line of fixq.torch's importer.

    python3 python/fixq_torch.py lenet.pt lenet_fixq --input-shape 1,28,28

The importer lives in the package (fixq/_torch_import.py, with the model folder writer
fixq/_model_writer.py; from Python: fixq.torch.export_model). This script loads them
from the folder python/fixq as a bare package of another name, without running
fixq/__init__.py, so it runs from a source tree where the package's C++ module
(fixq._core) has not been built, and does not touch an installed `fixq`.
"""

import importlib
import importlib.machinery
import importlib.util
import os
import sys

_PACKAGE = "_fixq_sources"
if _PACKAGE not in sys.modules:
    _spec = importlib.machinery.ModuleSpec(_PACKAGE, None, is_package=True)
    _spec.submodule_search_locations = [os.path.join(os.path.dirname(os.path.abspath(__file__)), "fixq")]
    sys.modules[_PACKAGE] = importlib.util.module_from_spec(_spec)
_module = importlib.import_module(_PACKAGE + "._torch_import")
export_model = _module.export_model
__all__ = ["export_model"]

if __name__ == "__main__":
    sys.exit(_module.main())
