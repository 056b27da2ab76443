"""Accounts people manage themselves: invitations, password change and reset, signed-in sessions,
two-factor sign-in and personal API tokens. Part of the platform (core leans on it for sign-in),
not a domain: it imports no domain."""
