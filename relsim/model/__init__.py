"""The model: state, mechanisms, governance rules and the two drivers that step them.

:class:`RegulationModel` (:mod:`relsim.model.mesa_model`) is one run as an ordinary Mesa model;
:mod:`relsim.model.batch` steps many replications of a scenario together. Both call the same
monthly steps.
"""

from relsim.model.mesa_model import RegulationModel

__all__ = ["RegulationModel"]
