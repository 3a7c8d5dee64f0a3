"""Dispatch: fan-out of approved alerts, the worker loop, provider status callbacks."""
