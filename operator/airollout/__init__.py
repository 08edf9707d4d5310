"""AIRollout: signal-responsive progressive delivery for Kubernetes."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("airollout")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0.0.0+unknown"
