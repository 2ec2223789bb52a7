"""Accounts: users and roles, passwords, invitations and resets, API tokens, two-step
verification (authenticator app, recovery codes, the site's policy), and throttling of sign-ins
and posts."""
