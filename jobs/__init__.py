"""What a job is, with no database: specs, datasets, models, and the training and inference loops."""
