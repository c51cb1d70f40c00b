"""The package's architecture holds: no import cycles (the layers are checked by lint-imports)."""

from __future__ import annotations

import grimp
import networkx as nx


def test_the_import_graph_has_no_cycle_except_type_only_imports():
    graph = grimp.build_graph("relsim", exclude_type_checking_imports=True)
    edges = [(m, i) for m in graph.modules for i in graph.find_modules_directly_imported_by(m)]
    cycles = list(nx.simple_cycles(nx.DiGraph(edges)))
    assert cycles == [], cycles
