"""Workstation half of the workflow: stage the dataset, train the SageMaker built-in
image-classification algorithm, deploy an endpoint with data capture, tear it down."""
