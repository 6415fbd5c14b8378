# The least-privilege Nomad ACL policy for nomad-bridge (the `serve` process), derived from the
# Nomad endpoints it calls (nomad_bridge/nomad/endpoints.py):
#
#   GET    /v1/jobs                        list-jobs
#   GET    /v1/job/:id, /summary, /versions read-job
#   GET    /v1/job/:id/scale               read-job
#   GET    /v1/event/stream (job topics)   read-job
#   POST   /v1/jobs                        submit-job   (start, restore, count change fallback)
#   DELETE /v1/job/:id                     submit-job   (stop; Nomad 2.0 adds deregister-job)
#   POST   /v1/job/:id/scale               scale-job    (count changes; submit-job would also do)
#   GET    /v1/vars?prefix=P/              variables list            under P/*
#   GET/PUT/DELETE /v1/var/P/...           variables read/write/destroy under P/*
#   GET    /v1/status/leader, /v1/regions  no capability needed
#
# P is BRIDGE_DEFINITIONS_PREFIX (default nomad-bridge/jobs): change the path below with it, and
# the namespace with NOMAD_NAMESPACE. Nothing here reaches other namespaces, nodes, the agent or
# operator endpoints, or any other variables. Removing a job for good (purge, then delete its
# saved definition) is an operator's task, done with the operator's own token.
#
# Attach it to the bridge's workload identity (deploy/nomad/nomad-bridge.nomad.hcl):
#   nomad acl policy apply -namespace default -job nomad-bridge nomad-bridge acl-policy.hcl
# or to a token for a bridge running elsewhere:
#   nomad acl policy apply nomad-bridge acl-policy.hcl
#   nomad acl token create -name nomad-bridge -policy nomad-bridge

namespace "default" {
  capabilities = ["list-jobs", "read-job", "submit-job", "scale-job"]

  variables {
    path "nomad-bridge/jobs/*" {
      capabilities = ["read", "write", "destroy", "list"]
    }
  }
}
