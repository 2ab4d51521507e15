"""cotenant from Python: load traces and workloads, simulate, search, place fleets.

The functions are bindings over the same C++ libraries as the `cotenant`
command line (simulate, search, validate --measured, calibrate --measured, fleet), and return plain Python objects (dicts,
lists, numbers, strings) shaped like the CLI's JSON documents
(docs/formats.md), ready for pandas. Bad input raises cotenant.InputError
(a ValueError) with the library's one-line message. Paths are relative to
the current directory. See python/README.md.
"""

from ._cotenant import (  # noqa: F401
    InputError,
    __version__,
    calibrate_measured,
    fleet,
    gpu_spec,
    gpus,
    load_trace,
    search,
    simulate,
    validate_measured,
)

__all__ = [
    "InputError",
    "calibrate_measured",
    "fleet",
    "gpu_spec",
    "gpus",
    "load_trace",
    "search",
    "simulate",
    "validate_measured",
]
