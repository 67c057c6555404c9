"""Comparing classifiers and backends: accuracies with intervals, paired tests, output gaps."""
