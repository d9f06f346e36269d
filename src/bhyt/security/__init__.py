"""Who may see what: signed tokens, roles and their scopes, the append-only audit log, rate limits."""
