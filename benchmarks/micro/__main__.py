"""``python -m benchmarks.micro NAME [ARGS...]``: run the micro-benchmark ``NAME`` with ``ARGS``
(the same as ``python -m benchmarks.micro.NAME ARGS...``)."""

import argparse
import importlib
import sys

from benchmarks.micro import MODULES

parser = argparse.ArgumentParser(
    prog="python -m benchmarks.micro",
    description="Run one micro-benchmark (`python -m benchmarks.micro NAME --help`: its options).",
)
parser.add_argument("name", choices=MODULES, help="which micro-benchmark")
parser.add_argument("args", nargs=argparse.REMAINDER, help="its arguments")
ns = parser.parse_args()
sys.exit(importlib.import_module(f"benchmarks.micro.{ns.name}").main(ns.args))
