"""Peer baselines: the decision rules of Argo Rollouts, Flagger and Kayenta, one file each."""
