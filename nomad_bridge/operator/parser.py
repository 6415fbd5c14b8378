"""The `nomad-bridge jobs` arguments: argparse only, so that building the top-level parser
imports nothing heavy (python-nomad is imported when a `jobs` command runs)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

EPILOG = (
    "Nomad is found through NOMAD_ADDR, NOMAD_TOKEN, NOMAD_NAMESPACE, NOMAD_REGION, "
    "NOMAD_CACERT, NOMAD_CAPATH, NOMAD_CLIENT_CERT, NOMAD_CLIENT_KEY, NOMAD_SKIP_VERIFY and "
    "NOMAD_TLS_SERVER_NAME; the flag keys and the saved-definitions prefix through "
    "BRIDGE_AUTOSTART_KEY, BRIDGE_BYCLUSTER_KEY and BRIDGE_DEFINITIONS_PREFIX. Exit codes: "
    "0 done, 1 Nomad or operation error, 2 usage error, 3 job not found."
)
FLAG_HELP = "autostart or byCluster (or their Meta keys) = true/false, 1/0, yes/no"


def add_jobs_parser(commands_parsers: Any) -> None:
    """Add `jobs` and its subcommands to the top-level parser's subparsers."""
    jobs = commands_parsers.add_parser(
        "jobs",
        help="operate on the jobs of the Nomad named by NOMAD_ADDR (list, flags, import, ...)",
        description="Operator commands on the Cluster API's jobs, talking to Nomad directly.",
        epilog=EPILOG,
    )
    sub = jobs.add_subparsers(dest="jobs_command", required=True, metavar="COMMAND")

    ls = sub.add_parser(
        "ls",
        help="list jobs as the Cluster API shows them",
        description="List every job the Cluster API lists, with its flags and task groups "
        "(count and allocation counters); jobs Nomad garbage-collected that have a saved "
        "definition show as dead.",
        epilog=EPILOG,
    )
    ls.add_argument("--json", action="store_true", help="print the job views as JSON")

    flags = sub.add_parser(
        "flags",
        help="set a job's autostart / byCluster flags",
        description="Set flags in the job's Meta through a check-and-set re-register (retried "
        "on conflict); prints what changed, and changes nothing if every flag already has "
        "its value. A job Nomad garbage-collected has its saved definition updated.",
        epilog=EPILOG,
    )
    flags.add_argument("job", metavar="JOB", help="job ID")
    flags.add_argument("assignments", metavar="NAME=VALUE", nargs="+", help=FLAG_HELP)

    imp = sub.add_parser(
        "import",
        help="register every job file of a directory",
        description='Register every *.json ({"Job": {...}} or a bare job), *.hcl and *.nomad '
        "file in DIR (HCL through Nomad's /v1/jobs/parse). One line per file; exit code 1 if "
        "any file failed.",
        epilog=EPILOG,
    )
    imp.add_argument("directory", metavar="DIR", type=Path, help="directory of job files")
    imp.add_argument(
        "--flag",
        dest="flags",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help=f"add this flag to every job's Meta (repeatable): {FLAG_HELP}",
    )

    sub.add_parser(
        "save-definitions",
        help="save the definition of every listed job (only those that changed)",
        description="Backfill the saved definitions (Nomad Variables under "
        "BRIDGE_DEFINITIONS_PREFIX, encoded exactly as the bridge does) of every listed job, "
        "writing only those whose stored digest differs; prints the counts.",
        epilog=EPILOG,
    )

    forget = sub.add_parser(
        "forget",
        help="purge a job from Nomad and delete its saved definition",
        description="Remove a job for good: purge it in Nomad (DELETE ?purge=true) and delete "
        "its saved definition. Without --yes, print what would be done and exit 2.",
        epilog=EPILOG,
    )
    forget.add_argument("job", metavar="NAME", help="job ID")
    forget.add_argument("--yes", action="store_true", help="really do it")
