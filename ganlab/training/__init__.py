"""Training: the entry point (``ganlab.training.run.train``), one model's state (``trainer``), the one loop (``loop``),
the math of a step (``step``), run folders and the resume rule (``rundir``). Importing the package loads none of them.
"""
