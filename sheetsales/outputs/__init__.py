"""Outputs: the summary, feedback and decisions workbooks, the digest, and putting files in place."""
