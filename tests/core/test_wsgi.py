"""The WSGI module gunicorn loads: the site, and the cycle collector tuned for
request work (plnorg/wsgi.py)."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PROBE = """
import gc
before = gc.get_threshold()
from plnorg.wsgi import application
print(before, gc.get_threshold(), gc.get_freeze_count() > 1000, type(application).__name__)
"""


def test_loading_the_site_moves_its_objects_out_of_the_collectors_way():
    # A process of its own: freezing this test run's heap would outlive the test.
    result = subprocess.run([sys.executable, "-c", PROBE], cwd=ROOT, capture_output=True, text=True, timeout=120)

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "(700, 10, 10) (50000, 20, 100) True WSGIHandler"  # 3.11's default, then ours
