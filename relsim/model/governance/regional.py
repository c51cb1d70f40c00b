"""Regional boards: networked governance scaled up as one board per regional network.

Provan & Kenis (2008) distinguish three modes of network governance: *shared participant
governance* (the members govern together; it suits small networks with dense trust), a *lead
organisation* (one member convenes and coordinates the others) and a *network administrative
organisation* (a separate body set up to govern the network). One shared board of every trust
in England is the first mode at a size where, by the network-size effect (MODEL.md fact 8), each
pair of members gets almost no contact. Here each region's trusts and the regulator (through its
regional team) form a shared board that meets as the partnership's board did (MODEL.md M6,
applied per region, :mod:`relsim.model.governance.board`). The other regional modes change who
chairs the board and who meets the regulator (:mod:`relsim.model.governance.lead`,
:mod:`relsim.model.governance.administrative`), or add meetings between regions
(:mod:`relsim.model.governance.national`).

Everything is computed for all regions at once, in the block layout of the per-pair state
(:mod:`relsim.model.relations`), so a month costs about as much per trust at 800 trusts as at
200.
"""

from __future__ import annotations

from relsim.model.governance.board import Boards


class RegionalBoards(Boards):
    """One board per region of its trusts and the regulator: shared governance, region by region."""

    name = "regional_boards"
