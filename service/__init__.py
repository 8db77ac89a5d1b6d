"""shudi (属地): the county–township responsibility workflow service.

Layers, from the inside out:
- ``service.domain``   — catalog, directory, roles, calendar; knows nothing of SpiffWorkflow or Flask.
- ``service.engine``   — SpiffWorkflow runtime, sandbox, deployment checks, persistence, timer worker;
                         knows nothing of Flask.
- ``service.services`` — use cases (start, complete, deploy …) with authorization and validation,
                         each run in one unit of work.
- ``service.api`` / ``service.web`` — thin Flask layers over the use cases.
"""
