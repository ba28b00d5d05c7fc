"""Benchmarks: Liucheng against SpiffWorkflow on the same processes (``./run bench``).

``workloads`` says what each workload does, engine-neutrally; ``liucheng_side`` and
``spiff_peer`` drive one engine each through it; ``measure`` times them; ``__main__`` prints the
table.  See ``bench/README.md`` for the figures.
"""
