"""The bench scripts stay runnable: the quick daily-reset measure on a toy seed prints a well-formed result.

Speed is not asserted here (bench/ measures it); this only keeps the scripts from rotting.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.postgres
@pytest.mark.slow
def test_a_bench_script_runs_on_a_toy_size():
    done = subprocess.run([sys.executable, "-m", "bench.run_all", "--members", "300", "--only", "bench.p4_daily_reset"],
                          cwd=ROOT, capture_output=True, text=True, timeout=240,
                          env={**os.environ, "BOTFLEET_ENV": "testing"})
    assert done.returncode == 0, done.stderr[-2000:]
    [line] = [json.loads(out[6:]) for out in done.stdout.splitlines() if out.startswith("BENCH ")]
    assert line["measure"] == "P4.daily_reset" and line["value"] >= 0 and line["baseline"] > 0
    assert "| P4.daily_reset |" in done.stdout
