"""Shared test helper (not a test module): run Python code in a fresh interpreter and read its last line as JSON."""

from __future__ import annotations

import json
import os
import subprocess
import sys


def python_json(code: str, timeout: float = 300) -> object:
    """Run ``code`` with this interpreter in a new process (warnings off); its last output line, parsed as JSON."""
    env = {**os.environ, "PYTHONWARNINGS": "ignore"}
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=timeout)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])
