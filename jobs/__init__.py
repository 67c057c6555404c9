"""What a job is, with no database: specs, datasets, models, training and inference loops."""
