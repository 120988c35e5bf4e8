"""Agent Monitor core: data model, settings, errors, pipeline, storage and CLI.

Nothing heavy is imported here; import the submodule you need.
"""

__version__ = "0.1.0"
