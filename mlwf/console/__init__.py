"""`mlwf console`: the Step Functions console and the monitoring view as a local web page."""
