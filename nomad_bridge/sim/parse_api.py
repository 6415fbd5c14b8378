"""`POST`/`PUT /v1/jobs/parse`: an HCL2 job specification turned into the API's Job JSON.

Nomad's handler (`JobsParseRequest` in command/agent/job_endpoint.go, api-docs/jobs.mdx
"Parse Job"): any other method is 405; the ACL check (`parse-job` or `submit-job`) comes
before the body; the body is `api.JobsParseRequest` (`JobHCL`, `Variables`, `Canonicalize`;
`HCLv1` and `VariableFlags` are not read by Nomad ≥ 1.9, so not here either); an empty
`JobHCL` is 400 `Job spec is empty`; a spec that does not parse is 400 `Failed to parse job:
` followed by HCL's diagnostic, `input.hcl:LINE,COL-COL: Summary; Detail`. The answer is the
`api.Job` as Go encodes it (every field, `null` when unset); `Canonicalize` fills defaults.
Nothing is stored and no index is returned.

The simulator parses a subset of the job specification with python-hcl2 (not HashiCorp's
HCL), and says so in its diagnostics rather than guessing: the subset and the defaults of
`Canonicalize` are in `hcl_jobspec`, values and `${...}` templates in `hcl_values`, reading
the file and wording diagnostics in `hcl_document`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from aiohttp import web

from nomad_bridge.sim.errors import NomadError
from nomad_bridge.sim.gojson import BOOL, STRING, Struct
from nomad_bridge.sim.hcl_document import HclError
from nomad_bridge.sim.hcl_jobspec import canonicalize, parse_hcl
from nomad_bridge.sim.query import read_body
from nomad_bridge.sim.responses import json_response

if TYPE_CHECKING:
    from nomad_bridge.sim.simulator import Simulator

PARSE_REQUEST = Struct(
    "api.JobsParseRequest", {"JobHCL": STRING, "Variables": STRING, "Canonicalize": BOOL}
)


async def parse_job(request: web.Request, sim: Simulator, _: str) -> web.StreamResponse:
    namespace = request.rel_url.query.get("namespace") or "default"
    sim.acl.authorize(request, namespace, "parse-job", "submit-job")
    args = await read_body(request, PARSE_REQUEST)
    if not args.get("JobHCL"):
        raise NomadError(400, "Job spec is empty")
    try:
        job = parse_hcl(args["JobHCL"], variables=args.get("Variables") or "")
    except HclError as err:
        raise NomadError(400, f"Failed to parse job: {err}") from None
    if args.get("Canonicalize"):
        job = canonicalize(job)
    return json_response(request, job)
