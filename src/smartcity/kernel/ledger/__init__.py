"""kernel/ledger."""
