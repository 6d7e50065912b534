"""Data sets as uint8 tensors, cached once, batched on the training device."""

from ganlab.data.load import DataSplits, load_data, load_split
from ganlab.data.sampler import BatchSampler, to_uint8, to_unit_range
from ganlab.data.sources import ImageSet
from ganlab.data.spec import ImageSpec

__all__ = ["BatchSampler", "DataSplits", "ImageSet", "ImageSpec", "load_data", "load_split", "to_uint8",
           "to_unit_range"]
