"""The workflow engine: SpiffWorkflow runtime, sandbox, deployment checks, persistence, timers.

Nothing in this package imports Flask.
"""
