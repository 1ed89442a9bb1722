"""Firewall rule sets -> Calico resources; the evaluator that explains flows; lint; importers."""
