"""Long-term conversational memory: LoCoMo turn retrieval, and memory recall latency.

``python -m benchmarks.locomo`` runs ``harness.main`` (contextos's ``MemoryStore`` against BM25,
dense and mem0 over LoCoMo turns); ``data`` reads the LoCoMo file, ``metrics`` scores rankings,
``systems`` and ``mem0_baseline`` are the retrievers. ``python -m
benchmarks.locomo.memory_recall`` times recall over synthetic memories.
"""
