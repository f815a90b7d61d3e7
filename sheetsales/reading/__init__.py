"""Reading and templates: the column specifications, the rep-facing templates, and reading, validating
and identifying the workbooks people save."""
