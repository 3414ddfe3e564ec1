"""Provisioning's workflows: tokens (tokens.py), users (users.py) and groups
(groups.py). Each write runs in one transaction and is audited."""
