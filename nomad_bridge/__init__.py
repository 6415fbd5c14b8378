"""nomad-bridge: the Cluster API jobs endpoints in front of a HashiCorp Nomad cluster."""

__version__ = "0.1.0"
