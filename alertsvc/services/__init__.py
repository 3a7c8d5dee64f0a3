"""Workflows, one module each. Services own the transaction and write the audit event inside it."""
