"""TRL / transformers integration (needs ``pip install 'rlforensics[trl]'``)."""

from rlforensics.integrations.trl.monitors import ComprehensivePPOMonitor

__all__ = ["ComprehensivePPOMonitor"]
