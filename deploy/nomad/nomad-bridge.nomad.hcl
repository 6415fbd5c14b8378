# nomad-bridge running on Nomad itself: two replicas behind whatever load balancer reads Nomad's
# service catalogue (service "nomad-bridge", provider "nomad").
#
# Once per cluster (with a management token):
#   nomad acl policy apply -namespace default -job nomad-bridge \
#       -description "nomad-bridge: the Cluster API in front of Nomad" \
#       nomad-bridge deploy/nomad/acl-policy.hcl
#   nomad var put nomad/jobs/nomad-bridge tokens='<token-1>,<token-2>'
# Then:
#   nomad job run -var image=registry.example.com/nomad-bridge:0.1.0 deploy/nomad/nomad-bridge.nomad.hcl
#
# Nomad's address: the Task API, the unix socket Nomad (1.5+) gives every task at
# ${NOMAD_SECRETS_DIR}/api.sock, which reaches the local agent without a network address, a port
# or TLS to configure (Nomad 1.10.3+ also sets NOMAD_UNIX_ADDR to the same URL).
# Nomad's token: the task's workload identity (`identity { env = true }` sets NOMAD_TOKEN). The
# Task API always requires one, even with ACLs disabled; the policy applied with
# `-job nomad-bridge` is attached to it, so no long-lived token exists anywhere.

variable "image" {
  type        = string
  description = "The nomad-bridge image (built from deploy/Dockerfile), with a pinned tag."
  default     = "nomad-bridge:0.1.0"
}

job "nomad-bridge" {
  type        = "service"
  datacenters = ["*"]

  # Rolling deploys: one replica at a time, each must pass its checks before the next, and a
  # deploy that never becomes healthy rolls back to the last good version.
  update {
    max_parallel      = 1
    health_check      = "checks"
    min_healthy_time  = "10s"
    healthy_deadline  = "2m"
    progress_deadline = "5m"
    auto_revert       = true
  }

  group "bridge" {
    count = 2

    # Replicas on different nodes where possible, so losing a node leaves one serving.
    spread {
      attribute = "${node.unique.id}"
    }

    network {
      port "http" {
        to = 8080
      }
    }

    # Give load balancers time to drop a stopping replica before it gets SIGTERM.
    shutdown_delay = "5s"

    service {
      name     = "nomad-bridge"
      provider = "nomad"
      port     = "http"
      tags     = ["http"]

      # Readiness: Nomad reachable and the view synced. Gates deployments and LB membership;
      # never restarts the task (a Nomad outage must not restart every replica).
      check {
        name     = "ready"
        type     = "http"
        path     = "/ready"
        interval = "10s"
        timeout  = "3s"
      }

      # Liveness: the process answers. Restarts a replica that stopped answering.
      check {
        name     = "alive"
        type     = "http"
        path     = "/health"
        interval = "10s"
        timeout  = "3s"

        check_restart {
          limit = 3
          grace = "30s"
        }
      }
    }

    restart {
      attempts = 3
      interval = "5m"
      delay    = "10s"
      mode     = "delay"
    }

    task "bridge" {
      driver = "docker"

      config {
        image = var.image
        ports = ["http"]
        args  = ["serve", "--host", "0.0.0.0", "--port", "8080"]
      }

      # NOMAD_TOKEN = this task's workload identity, which the Task API requires (see the header).
      identity {
        env = true
      }

      env {
        NOMAD_ADDR       = "unix://${NOMAD_SECRETS_DIR}/api.sock"
        BRIDGE_LOG_LEVEL = "INFO"
      }

      # Bearer tokens from the Nomad Variable nomad/jobs/nomad-bridge (item "tokens",
      # comma-separated), which the job's workload identity may read without any extra policy.
      # Until that variable exists the task waits here: the bridge never serves without tokens.
      template {
        data        = <<-EOT
          {{- with nomadVar "nomad/jobs/nomad-bridge" }}
          BRIDGE_TOKENS={{ .tokens }}
          {{- end }}
        EOT
        destination = "${NOMAD_SECRETS_DIR}/bridge.env"
        env         = true
        change_mode = "restart"
      }

      resources {
        cpu    = 200
        memory = 128
      }

      # The bridge answers waiting long polls and exits within 5 s of SIGTERM.
      kill_timeout = "15s"
    }
  }
}
