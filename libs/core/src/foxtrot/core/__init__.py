"""Foxtrot's pure trading domain.

Nothing here does I/O, reads a clock or touches asyncio: time and ids are passed in,
so the same code runs live, in replay, in backtests and under property tests.
"""
