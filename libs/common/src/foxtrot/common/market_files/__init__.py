"""Readers of market data files, one module per family of formats.

Each reader is a generator of domain records (``foxtrot.core``) that opens its file, parses
it row by row and raises ``ValueError`` naming the file and line of anything it cannot read.
:mod:`foxtrot.common.market_files.formats` picks the reader for a file.
"""
