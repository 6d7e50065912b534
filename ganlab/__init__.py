"""ganlab: train, measure and explore conditional GANs on image data sets.

Importing the package is cheap: torch and friends load only in the modules that need them.
"""

__version__ = "0.1.0"
