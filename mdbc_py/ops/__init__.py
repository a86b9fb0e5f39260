"""Operator artefacts generated from the code: metric and configuration references.

Nothing here runs in an agent or a driver; the deployment files (alert rules,
dashboard, ``docs/operations.md``) and their tests use it so that what they
name cannot drift from what the code exports or reads.
"""
