"""The service shells: the command line, the workspace, the watcher, the schedule, live Excel and the demo."""
