"""The parameters an index is built with: recorded when it is created, checked against what
a gate asks for each time it is opened (signatures and band keys made with other parameters
would never match the stored ones)."""

from __future__ import annotations

from dataclasses import dataclass, replace

from ..config import ScanConfig
from ..errors import ConfigError
from ..match.lsh import lsh_params
from ..store import Store

# Settings that shape signatures and band keys: an index keeps the ones it was built with.
INDEX_SETTINGS = ("num_perm", "seed", "lsh_threshold", "shingle_size", "seed_words", "window_words")
# LSH bands x rows of a new index: fewer, shorter bands than the scan's (37 x 3 at its
# threshold 0.3) find as many reused pairs with a third of the band keys stored and looked
# up, when incoming articles look up only their tiling windows; the extra candidates they let
# in are ranked by shared keys and cut at max_candidates (measured: docs/performance.md).
GATE_BANDS, GATE_ROWS = 12, 2


@dataclass(frozen=True)
class IndexLayout:
    """An open index's parameters: the matching config (its index settings the recorded
    ones) and the LSH bands and rows of its band keys."""

    config: ScanConfig
    bands: int
    rows: int


def index_layout(
    store: Store,
    location: str,
    config: ScanConfig | None,
    bands: int | None,
    rows: int | None,
) -> IndexLayout:
    """Record the parameters of a new index, or read an existing index's and check that
    those asked for (``config``, ``bands``, ``rows``; None: not asked) are the same.

    Raises:
        ConfigError: bad bands or rows, or asked parameters that differ from the index's.
    """
    wanted = config or ScanConfig()
    asked = {k: getattr(config, k) for k in INDEX_SETTINGS} if config is not None else {}
    asked.update({k: v for k, v in (("bands", bands), ("rows", rows)) if v is not None})
    layout = {"bands": bands or GATE_BANDS, "rows": rows or GATE_ROWS}
    if layout["bands"] < 1 or layout["rows"] < 1:
        raise ConfigError("bands and rows must be at least 1")
    if layout["bands"] * layout["rows"] > wanted.num_perm:
        raise ConfigError(
            f"{layout['bands']} bands x {layout['rows']} rows need more than num_perm="
            f"{wanted.num_perm} signature values"
        )
    recorded = store.init_settings({k: getattr(wanted, k) for k in INDEX_SETTINGS} | layout)
    if "bands" not in recorded:  # built before the gate had its own bands
        scans = lsh_params(recorded["lsh_threshold"], recorded["num_perm"])
        recorded = recorded | dict(zip(("bands", "rows"), scans))
    differing = {k: (recorded.get(k), v) for k, v in asked.items() if recorded.get(k) != v}
    if differing:
        detail = ", ".join(f"{k}={old} (asked {v})" for k, (old, v) in differing.items())
        raise ConfigError(
            f"index {location} was built with {detail}: open it without these "
            "options, or build a new index"
        )
    return IndexLayout(
        replace(wanted, **{k: recorded[k] for k in INDEX_SETTINGS}),
        int(recorded["bands"]),
        int(recorded["rows"]),
    )
