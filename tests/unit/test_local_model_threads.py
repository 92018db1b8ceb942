"""OneThread (mlwf/offline/local_model/threads.py): while one is active, every BLAS and OpenMP
library the local model computes with runs one thread, whatever was imported first.

In a fresh process, because what matters is the order of the imports: `train` enters
OneThread before it imports scikit-learn, whose OpenMP runtime (k-means) then loads. Made
before that, the controller left OpenMP on every core, spinning against the other process on
a busy 2-core machine: a small training took 2.6 s instead of 0.2 s.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

from tests.helpers.paths import PROJECT_ROOT

# Three OpenMP threads by default: more than one, on any machine (OpenBLAS caps its own
# default at the number of cores).
DEFAULT_THREADS = {"OMP_NUM_THREADS": "3", "OPENBLAS_NUM_THREADS": "3"}

SCRIPT = """
import json
from threadpoolctl import threadpool_info
from mlwf.offline.local_model.threads import OneThread

def threads():
    return sorted((i["internal_api"], i["num_threads"]) for i in threadpool_info())

with OneThread():
    import sklearn.cluster  # as train() imports it: scikit-learn's OpenMP loads now
    inside = threads()
print(json.dumps({"inside": inside, "after": threads()}))
"""


def test_every_blas_and_openmp_library_runs_one_thread_inside_and_openmp_its_default_after():
    completed = subprocess.run(
        [sys.executable, "-c", SCRIPT],
        cwd=PROJECT_ROOT,
        env={**os.environ, **DEFAULT_THREADS},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr
    seen = json.loads(completed.stdout)
    assert {api for api, _ in seen["inside"]} >= {"openblas", "openmp"}
    assert [n for _, n in seen["inside"]] == [1] * len(seen["inside"]), seen["inside"]
    assert ["openmp", 3] in seen["after"], seen["after"]
