"""The model: state, mechanisms, governance rules and the two drivers that step them.

:class:`RegulationModel` (:mod:`relsim.model.mesa_model`) is one run as an ordinary Mesa model;
:mod:`relsim.model.batch` steps many replications of a scenario together. Both call the same
monthly steps.
"""

import warnings

with warnings.catch_warnings():
    # Mesa's batch runner imports tqdm.auto, which in a Jupyter kernel without ipywidgets warns
    # "IProgress not found" at import. relsim shows no Mesa progress bar (its own bars are
    # relsim.runs.progress's), so the warning says nothing to a relsim user.
    warnings.filterwarnings("ignore", message="IProgress not found")
    from relsim.model.mesa_model import RegulationModel

__all__ = ["RegulationModel"]
