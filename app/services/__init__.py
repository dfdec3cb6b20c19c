"""Domain operations shared by views, bots, jobs and the API. They flush; callers commit."""
