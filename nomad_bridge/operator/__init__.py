"""The operator CLI (`nomad-bridge jobs ...`): commands on python-nomad, on the server's rules.

python-nomad is reached through one adapter (`nomad_api.py`) that runs it in worker threads
and gives the bridge's shared rules (`nomad_bridge.jobs`: which jobs are listed, their views,
saved definitions) the same calls and errors the server's client does, so the CLI and the
API always agree. Nothing in this package runs inside the aiohttp server.
"""
