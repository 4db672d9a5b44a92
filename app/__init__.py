"""adstudio: a GraphQL API server for AI ad-creative generation."""

__version__ = "0.1.0"
