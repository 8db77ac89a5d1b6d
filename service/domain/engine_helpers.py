"""Domain functions offered to BPMN expressions (registered with the engine's helper registry).

Kept here so that adding a catalog lookup is one decorated function; the domain modules they
call stay free of SpiffWorkflow.
"""
from __future__ import annotations
