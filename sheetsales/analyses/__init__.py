"""Analyses: the store as of a date becomes figures; each capability is a section (see ``sections``)."""
