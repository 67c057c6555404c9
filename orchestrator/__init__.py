"""The qorch service layer: SQL store, job states, Ray driver and the job execution path."""
