"""Accounts: tenants, sites, users and roles, password login, sessions and API tokens."""
