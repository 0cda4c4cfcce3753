"""Infrastructure: how the program runs, not what the business decides.

Process plumbing (`infra.forking`: a second process for the heavy imports and exports, forked
or spawned) lives here rather than in `core`, whose modules are the business rules. The layer
sits between `store` and `core` (an import-linter contract): the store and the services may
use it, `core` never imports it, and it imports nothing above it, nor Qt.
"""
