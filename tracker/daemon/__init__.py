"""``tracker daemon``: APScheduler ticks, our own tables hold the state."""
