"""Fleet reports: uptime from the status history, coverage from the bins."""
