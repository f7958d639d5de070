"""Shared ComponentResources of the ML pipelines program, and the pure builders behind them."""
