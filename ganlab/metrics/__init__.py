"""Image-quality metrics over sampler functions (labels -> uint8 images) and real data.

Nothing here knows about training: callers pass samplers, images or callables. Submodules:
inception (the TF-Inception feature network), frechet (FID and its bootstrap interval), scores (IS,
KID, precision/recall), refstats (cached reference statistics), classifier (the domain classifier
and what it measures), evaluate (a named metric set over a sampler, eval.json).
"""
