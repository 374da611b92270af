"""The client portal: a private static page per client, rendered from the ledger."""
