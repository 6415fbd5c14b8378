"""How big and how long: the `--quick` and `--full` runs."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Profile:
    name: str
    groups: int = 3
    read_jobs: int = 500
    """The headline read: `GET /jobs` throughput at this many jobs, bridge vs bare."""
    read_connections: int = 32
    read_run_s: float = 3.0
    read_rounds: int = 3
    """Alternating bare/bridge runs; the median of each side is compared."""
    read_variants: tuple[tuple[str, tuple[tuple[str, str], ...]], ...] = (
        ("asyncio", (("BRIDGE_EVENT_LOOP", "asyncio"),)),
        ("reads_unlogged", (("BRIDGE_ACCESS_LOG_READS", "false"),)),
    )
    """Other bridges taking a turn in every headline read round, each against bare aiohttp
    on its own event loop: asyncio's loop beside the default uvloop, and no read lines."""
    growth_jobs: tuple[int, ...] = (10, 100, 200, 500, 1000, 5000)
    growth_run_s: float = 2.0
    growth_rounds: int = 2
    naive_jobs: tuple[int, ...] = (10, 200, 1000)
    bridge_reads: int = 200
    """Sequential reads timed per size (bounded by `sequential_run_s` as well)."""
    naive_reads: int = 10
    sequential_run_s: float = 6.0
    waiter_jobs: int = 20
    waiter_counts: tuple[int, ...] = (100, 1000)
    waiter_loops: tuple[str, ...] = ("uvloop", "asyncio")
    """Each number of waiters on each loop (bridge and anchor on the same one); a loop that
    is not installed is left out."""
    waiters_per_client: int = 2500
    mutation_jobs: int = 20
    mutation_rounds: int = 4
    startall_jobs: int = 200
    access_lines: int = 100_000
    """Lines written by the access-line micro-benchmark (`bench/accessline.py`)."""
    startall_latencies_s: tuple[float, ...] = (0.0, 0.005)
    """Added to every Nomad request: none (loopback), then 5 ms as across a network."""
    churn_jobs: tuple[int, ...] = (100, 1000, 5000)
    churn_rate: float = 20.0
    """Changes a second made straight on Nomad in the churn runs at every size."""
    churn_run_s: float = 5.0
    churn_ladder: tuple[float, ...] = (1, 2, 5, 10, 20, 50, 100, 200)
    """Rates tried in turn at the largest size, up to the first with lag p99 ≥ 1 s."""
    churn_ladder_s: float = 3.0
    ui_changes: int = 30
    """Count changes made on Nomad while the dashboard watches 1,000 jobs (bench/measures/ui.py)."""


QUICK = Profile(name="quick")
FULL = Profile(
    name="full",
    read_run_s=5.0,
    read_rounds=6,
    growth_run_s=4.0,
    growth_rounds=3,
    bridge_reads=1000,
    naive_reads=50,
    sequential_run_s=30.0,
    waiter_counts=(100, 1000, 10_000),
    mutation_rounds=15,
    churn_run_s=15.0,
    churn_ladder_s=6.0,
    access_lines=300_000,
    ui_changes=200,
)
