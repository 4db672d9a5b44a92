"""Thin root fields: parse input, call one service, map the result to a type."""
