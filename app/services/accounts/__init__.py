"""Accounts: users and roles, passwords, invitations and resets, API tokens, and throttling of
sign-ins and posts."""
