"""The local model's model.pkl names its classes as every artifact so far has, so artifacts
written before the module became a package (mlwf/offline/local_model/) still load."""

from __future__ import annotations

import io
import pickle

from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import StandardScaler

from mlwf.offline.local_model import LocalModel
from mlwf.offline.local_model.ensemble import _Ensemble, _Member
from mlwf.offline.local_model.features import _PatchEncoder


def load_recording_classes(payload: bytes) -> tuple[object, set[str]]:
    """The unpickled object and module.name of every class the pickle refers to."""
    names: set[str] = set()

    class Recorder(pickle.Unpickler):
        def find_class(self, module: str, name: str) -> object:
            names.add(f"{module}.{name}")
            return super().find_class(module, name)

    return Recorder(io.BytesIO(payload)).load(), names


def test_the_ensemble_pickles_under_the_module_path_of_version_1_artifacts():
    # Given an ensemble with one (tiny) member and its combiner, as model.pkl holds it
    ensemble = _Ensemble(_PatchEncoder(2, 2, 1000, seed=0), (8,), 16)
    x, y = [[0.0], [1.0]], [0, 1]
    ensemble.members.append(
        _Member("color", StandardScaler().fit(x), LogisticRegression().fit(x, y))
    )
    ensemble.combiner = LogisticRegression().fit(x, y)
    payload = pickle.dumps(ensemble, protocol=pickle.HIGHEST_PROTOCOL)

    loaded, classes = load_recording_classes(payload)
    ours = {name for name in classes if name.startswith("mlwf.")}
    assert ours == {
        "mlwf.offline.local_model._Ensemble",
        "mlwf.offline.local_model._Member",
        "mlwf.offline.local_model._PatchEncoder",
    }
    # and such a payload loads back into the package's classes
    assert isinstance(loaded, _Ensemble) and isinstance(loaded.members[0], _Member)
    assert LocalModel(loaded, {}).classes == ("bicycle", "motorcycle")
