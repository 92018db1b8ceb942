"""Workstation tools of the image-classification workflow: the `mlwf` command line,
the offline runtime and the evaluation tools. Nothing here runs in AWS."""
