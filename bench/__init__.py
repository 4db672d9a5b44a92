"""Benchmarks: the dashboard read served by the GraphQL API and by a hand-written baseline, and
one large upload with the server's memory watched.

Run ``python -m bench.dashboard --help`` or ``python -m bench.upload --help``; the write-up is
``docs/benchmarks.md``.
"""
