"""The operator CLI (`nomad-bridge jobs ...`): synchronous commands on python-nomad.

Blocking I/O is fine here and only here: nothing in this package runs inside the aiohttp
server. The job view, flag parsing and saved-definition encoding are the bridge's own pure
functions (`nomad_bridge.jobs.view`, `nomad_bridge.jobs.definitions`), so the CLI and the
API always agree.
"""
