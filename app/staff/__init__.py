"""Staff users, roles and sign-in."""
