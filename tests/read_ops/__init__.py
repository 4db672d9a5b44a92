"""The differential test of the two read paths: a seeded dataset, an operation generator and
an exact, order-aware comparison of two GraphQL responses."""
