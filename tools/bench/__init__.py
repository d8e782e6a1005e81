"""`finemeca bench`: end-to-end pipeline benchmark (ours vs a naive baseline) and the alert-cycle benchmark."""
