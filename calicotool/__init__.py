"""calicotool: firewall rules as Calico policy, route-reflector autoscaling, host enrollment."""

__version__ = "0.1.0"
