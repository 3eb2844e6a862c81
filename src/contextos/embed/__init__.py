"""Embedding models behind one small protocol (see ``protocol.py``)."""
