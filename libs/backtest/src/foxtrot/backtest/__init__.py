"""Foxtrot's backtester at the edge: data sources, the ``foxtrot`` CLI, sweeps and reports."""
