"""avdsim: a local HTTPS simulator of the Azure Resource Manager control plane.

See simulator/README.md for the provider API, the time model and the control API.
"""

__version__ = "0.1.0"
