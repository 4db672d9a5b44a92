"""The durable engine (DBOS Transact): workflows and steps that execute generations and jobs.

Our own tables stay the record GraphQL reads; the engine only executes.
"""
