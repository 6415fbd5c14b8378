"""Domain logic: job views, operations, saved definitions and the live view."""
