"""Benchmarks: the dashboard read served by the GraphQL API and by a hand-written baseline.

Run ``python -m bench.dashboard --help``; the write-up is ``docs/benchmarks.md``.
"""
