"""Users, roles, permissions, record and field rules, passwords, API tokens.

Public API: :mod:`core.security.models` (tables), :mod:`core.security.services`
(users, tokens, login), :mod:`core.security.access` (permission checks, rules, explain).
"""
